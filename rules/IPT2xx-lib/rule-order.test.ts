// Soundness of the chain order analysis (IPT204/IPT205), checked against a
// brute-force walk: random small chains over a small packet universe, and every
// claim the analysis makes must hold for every packet of the universe.
//   shadowedBy: a packet that matches the rule never reaches it (an earlier rule ends the walk);
//   duplicateOf: the same, for an identical earlier rule (so deleting it changes nothing);
//   subsumedBy: deleting the rule changes no packet's verdict nor the LOG rules it hits.
// The walk below is written from iptables' semantics, independently of packet-space.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressMatch, InterfaceMatch, Match, PortMatch, Rule } from '../../grammar/ast.ts';
import { parse } from '../../grammar/index.ts';
import { chainOrder, outcomeOf } from './rule-order.ts';

interface Packet {
  readonly proto: number;
  readonly src: number;
  readonly dst: number;
  readonly iface: string;
  readonly dport: number;
  readonly icmpType: number;
  readonly state: 'NEW' | 'ESTABLISHED';
  /** A non-first fragment: no transport header to match. */
  readonly tail: boolean;
}

const ip = (text: string) => text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const ADDRESSES = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '192.168.0.1'].map(ip);

const PACKETS: Packet[] = [];
for (const proto of [6, 17, 1]) {
  for (const src of ADDRESSES) {
    for (const dst of [ADDRESSES[0]!, ADDRESSES[3]!]) {
      for (const iface of ['eth0', 'eth1', 'lo']) {
        for (const dport of proto === 1 ? [0] : [22, 80, 443]) {
          for (const icmpType of proto === 1 ? [0, 8] : [0]) {
            for (const state of ['NEW', 'ESTABLISHED'] as const) {
              for (const tail of [false, true]) PACKETS.push({ proto, src, dst, iface, dport, icmpType, state, tail });
            }
          }
        }
      }
    }
  }
}

function inPrefix(a: AddressMatch | undefined, value: number): boolean {
  if (!a) return true;
  const size = 2 ** (32 - a.prefixLength);
  const base = ip(a.address);
  const hit = value >= base && value < base + size;
  return a.negated ? !hit : hit;
}

function ifaceMatches(m: InterfaceMatch | undefined, name: string): boolean {
  if (!m) return true;
  const hit = m.wildcard ? name.startsWith(m.name) : name === m.name;
  return m.negated ? !hit : hit;
}

function portMatches(m: PortMatch | undefined, port: number): boolean {
  if (!m) return true;
  const hit = m.ranges.some((r) => port >= r.from && port <= r.to);
  return m.negated ? !hit : hit;
}

function matchMatches(m: Match, p: Packet): boolean {
  switch (m.kind) {
    case 'tcp': case 'udp': return !p.tail && portMatches(m.dport, p.dport);
    case 'multiport': return !p.tail && portMatches(m.dports, p.dport);
    case 'icmp': {
      if (p.tail) return false;
      const t = m.icmpType;
      if (!t) return true;
      const hit = t.type === -1 || t.type === p.icmpType;
      return t.negated ? !hit : hit;
    }
    case 'conntrack': case 'state': {
      const s = m.kind === 'conntrack' ? m.ctstate : m.state;
      if (!s) return true;
      const hit = s.states.includes(p.state);
      return s.negated ? !hit : hit;
    }
    case 'comment': return true;
    default: throw new Error(`not generated: ${m.kind}`);
  }
}

function ruleMatches(r: Rule, p: Packet): boolean {
  if (r.protocol && (r.protocol.number === p.proto) === r.protocol.negated) return false;
  return inPrefix(r.source, p.src) && inPrefix(r.destination, p.dst) && ifaceMatches(r.inInterface, p.iface)
    && r.matches.every((m) => matchMatches(m, p));
}

/** The walk: the index of the rule that decided (or -1 for the policy), and the LOG rules hit on the way. */
function walk(rules: readonly Rule[], p: Packet): { decidedBy: number; verdict: string; logs: string } {
  const logs: number[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (!ruleMatches(r, p)) continue;
    if (r.target?.kind === 'LOG') { logs.push(i); continue; }
    return { decidedBy: i, verdict: outcomeOf(r.target!), logs: logs.map((l) => rules[l]!.text).join('|') };
  }
  return { decidedBy: -1, verdict: 'policy DROP', logs: logs.map((l) => rules[l]!.text).join('|') };
}

const protocol = fc.constantFrom('', '-p tcp', '-p udp', '-p icmp', '! -p udp');
const address = (flag: string) => fc.constantFrom('', `${flag} 10.0.0.0/8`, `${flag} 10.0.0.0/24`, `${flag} 10.0.0.1/32`, `${flag} 192.168.0.0/16`, `! ${flag} 10.0.0.0/8`);
const iface = fc.constantFrom('', '-i eth0', '-i eth+', '! -i lo', '-i lo');
const state = fc.constantFrom('', '-m conntrack --ctstate NEW', '-m conntrack --ctstate ESTABLISHED', '-m state --state NEW,ESTABLISHED', '-m conntrack ! --ctstate NEW');
const target = fc.constantFrom('-j ACCEPT', '-j DROP', '-j REJECT', '-j LOG', '-j ACCEPT', '-j DROP');
const ports = fc.constantFrom('', '--dport 22', '--dport 1:100', '! --dport 22', 'multiport');

const ruleText = fc.tuple(protocol, address('-s'), address('-d'), iface, state, ports, fc.constantFrom('', 'icmp8', 'icmp!8'), target)
  .map(([p, s, d, i, st, port, icmp, t]) => {
    const parts = ['-A INPUT', s, d, i, p];
    if (p === '-p tcp' || p === '-p udp') {
      const proto = p.slice(3);
      if (port === 'multiport') parts.push('-m multiport --dports 22,443');
      else if (port) parts.push(`-m ${proto} ${port}`);
    }
    if (p === '-p icmp' && icmp) parts.push(icmp === 'icmp8' ? '-m icmp --icmp-type 8' : '-m icmp ! --icmp-type 8');
    parts.push(st, t);
    return parts.filter(Boolean).join(' ');
  });

const chainText = fc.array(ruleText, { minLength: 2, maxLength: 9 })
  .map((rules) => ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n'));

describe('chain order analysis against a brute-force walk', () => {
  const seen = { shadowed: 0, duplicate: 0, subsumed: 0 };
  it('every claim holds for every packet of the universe', () => {
    fc.assert(fc.property(chainText, (text) => {
      const parsed = parse(text, { file: 'p.txt' });
      expect(parsed.errors).toEqual([]);
      const table = parsed.rulesets[0]!.tables[0]!;
      const chain = table.chains.find((c) => c.name === 'INPUT')!;
      const rules = chain.rules;
      const order = chainOrder(table, chain, 'ipv4');
      for (const [b, a] of order.shadowedBy) {
        seen.shadowed++;
        expect(a).toBeLessThan(b);
        for (const p of PACKETS) {
          if (!ruleMatches(rules[b]!, p)) continue;
          // The covering rule matches it too, and something at or before it ends the walk.
          expect(ruleMatches(rules[a]!, p), `rule ${a} does not match ${JSON.stringify(p)}\n${text}`).toBe(true);
          const w = walk(rules, p);
          expect(w.decidedBy, `rule ${b} is reached by ${JSON.stringify(p)}\n${text}`).toBeGreaterThanOrEqual(0);
          expect(w.decidedBy).toBeLessThanOrEqual(a);
        }
      }
      for (const [b, a] of order.duplicateOf) {
        seen.duplicate++;
        expect(rules[a]!.text).toBe(rules[b]!.text);
        for (const p of PACKETS) {
          if (ruleMatches(rules[b]!, p)) expect(walk(rules, p).decidedBy).toBeLessThan(b);
        }
      }
      for (const [b] of order.subsumedBy) {
        seen.subsumed++;
        const without = rules.filter((_, i) => i !== b);
        for (const p of PACKETS) {
          const before = walk(rules, p);
          const after = walk(without, p);
          expect({ verdict: after.verdict, logs: after.logs }, `deleting rule ${b} changes ${JSON.stringify(p)}\n${text}`)
            .toEqual({ verdict: before.verdict, logs: before.logs });
        }
      }
    }), { numRuns: 400, seed: 20261128 });
  });

  it('the generator exercises every kind of claim', () => {
    expect(seen.shadowed).toBeGreaterThan(20);
    expect(seen.subsumed).toBeGreaterThan(5);
  });
});
