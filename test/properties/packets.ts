// Packets aimed at what a ruleset mentions (its addresses, ports, interfaces),
// boundary addresses around CIDRs, and a CIDR membership test independent of
// src/model (node:net's BlockList).

import { BlockList } from 'node:net';
import fc from 'fast-check';
import type { AddressMatch, Family, Ruleset } from '../../grammar/ast.ts';
import type { CtState, L4Protocol, Packet } from '../../src/sim/types.ts';
import { v6Text } from './arbitraries.ts';

export const MAX_ADDRESS: Readonly<Record<Family, bigint>> = { ipv4: (1n << 32n) - 1n, ipv6: (1n << 128n) - 1n };

export function addressText(family: Family, value: bigint): string {
  if (family === 'ipv6') return v6Text(value);
  const v = Number(value);
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** IPv4 dotted quad or IPv6 (with `::` and dotted tails) → bigint; independent of grammar/address.ts. */
export function addressValue(family: Family, text: string): bigint | undefined {
  if (family === 'ipv4') {
    const parts = text.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
  }
  let head = text;
  let tail: bigint[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = addressValue('ipv4', dotted[1]!);
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = text.slice(0, -dotted[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => BigInt(`0x${g}`)));
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const missing = 8 - l.length - r.length - tail.length;
  if (right === undefined && missing !== 0) return undefined;
  const all = [...l, ...Array<bigint>(Math.max(0, missing)).fill(0n), ...r, ...tail];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** First and last address of an AST address match (a non-prefix mask gives its lowest and highest member). */
export function matchBounds(family: Family, match: Pick<AddressMatch, 'address' | 'prefixLength' | 'mask'>): [bigint, bigint] | undefined {
  const base = addressValue(family, match.address);
  if (base === undefined) return undefined;
  const bits = family === 'ipv4' ? 32n : 128n;
  const max = MAX_ADDRESS[family];
  if (match.prefixLength === -1) {
    const mask = addressValue(family, match.mask ?? '') ?? max;
    return [base & mask, (base & mask) | (max ^ mask)];
  }
  const host = (1n << (bits - BigInt(match.prefixLength))) - 1n;
  return [base & ~host & max, (base & ~host & max) | host];
}

/** Addresses worth testing: both ends of every address the ruleset matches on, and their neighbours. */
export function interestingAddresses(ruleset: Ruleset): bigint[] {
  const family = ruleset.family;
  const max = MAX_ADDRESS[family];
  const out = new Set<bigint>();
  const add = (v: bigint | undefined) => { if (v !== undefined && v >= 0n && v <= max) out.add(v); };
  const bounds = (m: Pick<AddressMatch, 'address' | 'prefixLength' | 'mask'> | undefined) => {
    if (!m) return;
    const b = matchBounds(family, m);
    if (!b) return;
    add(b[0]); add(b[1]); add(b[0] - 1n); add(b[1] + 1n);
  };
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        bounds(rule.source);
        bounds(rule.destination);
        for (const m of rule.matches) {
          if (m.kind === 'conntrack') { bounds(m.ctorigsrc); bounds(m.ctorigdst); bounds(m.ctreplsrc); bounds(m.ctrepldst); }
          if (m.kind === 'iprange') {
            for (const r of [m.srcRange, m.dstRange]) {
              if (!r) continue;
              const from = addressValue(family, r.from);
              const to = addressValue(family, r.to);
              if (from !== undefined) { add(from); add(from - 1n); }
              if (to !== undefined) { add(to); add(to + 1n); }
            }
          }
        }
        if (rule.target?.kind === 'DNAT' || rule.target?.kind === 'SNAT') {
          for (const r of rule.target.to) for (const a of [r.addressFrom, r.addressTo]) if (a) add(addressValue(family, a));
        }
      }
    }
  }
  const specials = family === 'ipv4'
    ? ['0.0.0.0', '255.255.255.255', '127.0.0.1', '224.0.0.1', '239.255.255.250', '172.17.0.1', '172.17.0.2', '10.0.0.1', '192.168.1.10', '203.0.113.10', '198.51.100.7', '8.8.8.8']
    : ['::', '::1', 'ff02::1', 'fe80::1', 'fd00::2', '2001:db8::10', '2001:db8:ffff::10', '2a00:1450::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];
  for (const s of specials) add(addressValue(family, s));
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function interestingPorts(ruleset: Ruleset): number[] {
  const ports = new Set<number>([0, 22, 80, 443, 1023, 1024, 2375, 8080, 40000, 65535]);
  const range = (r: { from: number; to: number }) => { for (const p of [r.from, r.to, r.from - 1, r.to + 1]) if (p >= 0 && p <= 65535) ports.add(p); };
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        for (const m of rule.matches) {
          if (m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp' || m.kind === 'dccp') for (const pm of [m.sport, m.dport]) pm?.ranges.forEach(range);
          if (m.kind === 'multiport') for (const pm of [m.sports, m.dports, m.ports]) pm?.ranges.forEach(range);
          if (m.kind === 'conntrack') for (const pm of [m.ctorigdstport, m.ctorigsrcport]) pm?.ranges.forEach(range);
        }
        if (rule.target?.kind === 'DNAT') for (const r of rule.target.to) if (r.portFrom !== undefined) ports.add(r.portFrom);
      }
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export function interestingInterfaces(ruleset: Ruleset): string[] {
  const names = new Set<string>(['eth0', 'eth1', 'docker0', 'lo', 'dfw-other0']);
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        for (const i of [rule.inInterface, rule.outInterface]) if (i && i.name) names.add(i.wildcard ? `${i.name}7` : i.name);
      }
    }
  }
  return [...names].sort();
}

const PROTOCOLS: readonly L4Protocol[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'other'];
const STATES: readonly CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];

/** Raw choices for a packet; `packetFor` maps them onto what the ruleset mentions. */
export interface PacketChoice {
  readonly proto: number;
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly iface: number;
  readonly fromHost: boolean;
  readonly state: number;
  readonly mark: number;
  readonly fragment: boolean;
  readonly flags: number;
  readonly original: number;
  readonly icmpType: number;
}

export const packetChoiceArb: fc.Arbitrary<PacketChoice> = fc.record({
  proto: fc.nat(20), src: fc.nat(1000), dst: fc.nat(1000), sport: fc.nat(1000), dport: fc.nat(1000), iface: fc.nat(100),
  fromHost: fc.boolean(), state: fc.nat(20), mark: fc.nat(5), fragment: fc.nat(9).map((n) => n === 0), flags: fc.nat(63),
  original: fc.nat(3), icmpType: fc.constantFrom(0, 3, 8, 11, 128, 129),
});

export function packetFor(ruleset: Ruleset, choice: PacketChoice, pools = { addresses: interestingAddresses(ruleset), ports: interestingPorts(ruleset), interfaces: interestingInterfaces(ruleset) }): Packet {
  const family = ruleset.family;
  const pick = <T>(items: readonly T[], i: number): T => items[i % items.length]!;
  const protocols = PROTOCOLS.filter((p) => (family === 'ipv4' ? p !== 'icmpv6' : p !== 'icmp'));
  const proto = pick(protocols, choice.proto);
  const src = addressText(family, pick(pools.addresses, choice.src));
  const dst = addressText(family, pick(pools.addresses, choice.dst));
  const state = choice.state < 10 ? 'NEW' : pick(STATES, choice.state);
  const marks = [0, 1, 0xff, 0x10000, 0xffffffff, 0xdeadbeef];
  return {
    family, proto, protoNumber: proto === 'other' ? 47 : undefined, src, dst,
    sport: pick(pools.ports, choice.sport), dport: pick(pools.ports, choice.dport),
    icmpType: choice.icmpType,
    tcpFlags: proto === 'tcp' && choice.flags % 4 === 0 ? ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG'].filter((_, i) => (choice.flags >> i) & 1) : undefined,
    inInterface: choice.fromHost ? undefined : pick(pools.interfaces, choice.iface),
    fromHost: choice.fromHost,
    state,
    mark: pick(marks, choice.mark),
    connmark: pick(marks, choice.mark + 1),
    fragment: family === 'ipv4' && choice.fragment,
    original: state === 'ESTABLISHED' || state === 'RELATED'
      ? choice.original === 0 ? undefined : { src: choice.original === 1 ? src : dst, dst: choice.original === 1 ? dst : src, direction: choice.original === 1 ? 'ORIGINAL' : 'REPLY' }
      : undefined,
  };
}

/** Membership in a list of CIDRs, by node:net (not by the project's own address sets). */
export function cidrMembership(family: Family, cidrs: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  const type = family === 'ipv4' ? 'ipv4' : 'ipv6';
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/') as [string, string | undefined];
    list.addSubnet(address, prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix), type);
  }
  return (address) => list.check(address, type);
}

/** Boundary addresses of CIDR lists: each end and its outside neighbour. */
export function cidrBoundaries(family: Family, cidrs: readonly string[]): bigint[] {
  const out: bigint[] = [];
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/') as [string, string | undefined];
    const b = matchBounds(family, { address, prefixLength: prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix) });
    if (!b) continue;
    out.push(b[0], b[1]);
    if (b[0] > 0n) out.push(b[0] - 1n);
    if (b[1] < MAX_ADDRESS[family]) out.push(b[1] + 1n);
  }
  return out;
}
