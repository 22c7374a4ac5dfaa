// Shared by the DFW108–DFW114 rules: reading the simulator's answers back into
// the AST (which rule or chain declaration a trace step stands for), choosing
// readable proof packets, the address ranges that count as "not from the
// internet", and the iptables command of a family. No traversal logic lives
// here: the simulator walks, these helpers only read its results.

import type { Family, Rule, Ruleset, Span } from '../../grammar/ast.ts';
import type { Simulator } from '../../src/engine/types.ts';
import { AddressSet, bigintToAddress } from '../../src/model/addrset.ts';
import { isRulesetSimulator, type RulesetSimulator } from '../../src/sim/index.ts';
import { OTHER_INTERFACE, OTHER_INTERFACE_NAME } from '../../src/sim/exposure.ts';
import type { L4Protocol, Trace, TraceStep } from '../../src/sim/types.ts';

/** The interface name a packet gets when it stands for "any other interface" (as exposure() uses it). */
export const OTHER_INTERFACE_PACKET_NAME = OTHER_INTERFACE_NAME;

/** The exposure helpers need the simulator's compiled form; every engine-built view has it. */
export function asRulesetSimulator(simulator: Simulator): RulesetSimulator | undefined {
  return isRulesetSimulator(simulator) ? simulator : undefined;
}

export function iptablesCommand(family: Family): string {
  return family === 'ipv6' ? 'ip6tables' : 'iptables';
}

/**
 * Sources that are not "the internet": private, shared, loopback, link-local,
 * multicast and reserved ranges (RFC 6890, RFC 4193, RFC 4291). Documentation
 * ranges are deliberately not here: examples use them for public addresses.
 */
export const PRIVATE_AND_SPECIAL: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
    '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'],
  ipv6: ['::/128', '::1/128', '::ffff:0:0/96', '100::/64', 'fc00::/7', 'fe80::/10', 'ff00::/8'],
};

/** Private ranges real clients come from (what a fix keeps open). */
export const PRIVATE_RANGES: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16'],
  ipv6: ['fc00::/7'],
};

/** Every public source address: the complement of PRIVATE_AND_SPECIAL. */
const PUBLIC_SOURCES: Readonly<Record<Family, AddressSet>> = {
  ipv4: AddressSet.fromCidrs('ipv4', PRIVATE_AND_SPECIAL.ipv4).complement(),
  ipv6: AddressSet.fromCidrs('ipv6', PRIVATE_AND_SPECIAL.ipv6).complement(),
};

/** Sets are immutable, so one per family serves every call. */
export function publicSources(family: Family): AddressSet {
  return PUBLIC_SOURCES[family];
}

/** CIDRs of one family out of a mixed list. */
export function cidrsOf(family: Family, cidrs: readonly string[]): string[] {
  return cidrs.filter((c) => c.includes(':') === (family === 'ipv6'));
}

/** A public-looking member of the set, for a readable proof packet; else its lowest address. */
export function sampleSource(family: Family, set: AddressSet): string | undefined {
  const preferred = family === 'ipv4'
    ? ['203.0.113.50', '198.51.100.50', '192.0.2.50', '8.8.8.8', '10.99.0.50', '192.168.99.50']
    : ['2001:db8:ffee::50', '2a00:1450:4001::50', 'fd00:99::50'];
  const hit = preferred.find((a) => set.containsText(a));
  if (hit) return hit;
  const first = set.sample();
  return first === undefined ? undefined : bigintToAddress(family, first);
}

/** "eth0", or "any other interface" for the stand-in. */
export function interfaceLabel(name: string, onlyOne = false): string {
  if (name === OTHER_INTERFACE || name === OTHER_INTERFACE_PACKET_NAME) return onlyOne ? 'any interface' : 'any other interface';
  return name;
}

/**
 * "eth0", "eth0 or any other interface", "eth0, wg0 or tailscale0". The stand-in reads "any
 * interface" only when it was the only candidate (`candidates`, default `names`).
 */
export function interfaceLabels(names: readonly string[], candidates: readonly string[] = names): string {
  const labels = names.map((n) => interfaceLabel(n, candidates.length === 1));
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

/** The interface a packet is given for a candidate interface name. */
export function packetInterface(name: string): string {
  return name === OTHER_INTERFACE ? OTHER_INTERFACE_PACKET_NAME : name;
}

/** The rule a trace step evaluated, or undefined for a policy step. */
export function stepRule(ruleset: Ruleset, step: TraceStep): Rule | undefined {
  if (step.position === 0) return undefined;
  const chain = ruleset.tables.find((t) => t.name === step.table)?.chains.find((c) => c.name === step.chain);
  return chain?.rules[step.position - 1];
}

/** Where a step is written: the rule, or for a policy the chain declaration (`:FORWARD ACCEPT`). */
export function stepSpan(ruleset: Ruleset, step: TraceStep): Span | undefined {
  const rule = stepRule(ruleset, step);
  if (rule) return rule.span;
  const table = ruleset.tables.find((t) => t.name === step.table);
  return table?.chains.find((c) => c.name === step.chain)?.span ?? table?.span;
}

/** The chain declaration, or the table header when the dump omits it. */
export function chainSpan(ruleset: Ruleset, table: string, chain: string): Span | undefined {
  const t = ruleset.tables.find((x) => x.name === table);
  return t?.chains.find((c) => c.name === chain)?.span ?? t?.span;
}

/** The last ACCEPT (rule or policy) in `hook`'s filter table: what let the packet through there. */
export function acceptingStep(trace: Trace, hook: TraceStep['hook']): TraceStep | undefined {
  for (let i = trace.steps.length - 1; i >= 0; i--) {
    const s = trace.steps[i]!;
    if (s.hook === hook && s.table === 'filter' && (s.action === 'accept' || s.action === 'policy-accept')) return s;
  }
  return undefined;
}

/**
 * Whether the rule names `port` itself in a destination-port match (tcp/udp/sctp --dport,
 * multiport): as a single port or a range end. A range merely containing it (`1024:65535`)
 * says nothing about that port in particular.
 */
export function namesDestinationPort(rule: Rule, proto: L4Protocol, port: number): boolean {
  const named = (ranges: readonly { from: number; to: number }[]) => ranges.some((r) => r.from === port || r.to === port);
  const protoOk = !rule.protocol || (!rule.protocol.negated && rule.protocol.name === proto);
  for (const m of rule.matches) {
    if ((m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp') && m.kind === proto && m.dport && !m.dport.negated && named(m.dport.ranges)) return true;
    if (m.kind === 'multiport' && protoOk) {
      for (const list of [m.dports, m.ports]) if (list && !list.negated && named(list.ranges)) return true;
    }
  }
  return false;
}

/** `tcp 203.0.113.50:40000 → 198.51.100.10:8080` */
export function packetText(family: Family, proto: string, src: string, dst: string, dport: number, sport = 40000): string {
  const host = (a: string) => (family === 'ipv6' ? `[${a}]` : a);
  return `${proto} ${host(src)}:${sport} → ${host(dst)}:${dport}`;
}

/** Short CIDR list for messages. */
export function cidrList(cidrs: readonly string[], max = 4): string {
  return cidrs.length > max ? `${cidrs.slice(0, max).join(', ')} and ${cidrs.length - max} more` : cidrs.join(', ');
}

/**
 * Sources for messages: `0.0.0.0/0` when the set is everything but `ignored` (e.g. spoofed
 * Docker subnets), "every public address" when it holds all of them, else its CIDRs.
 */
export function sourcesText(family: Family, sources: AddressSet, ignored: AddressSet = AddressSet.empty(family)): string {
  if (sources.union(ignored).isAll()) return family === 'ipv4' ? '0.0.0.0/0' : '::/0';
  const open = publicSources(family);
  if (sources.intersect(open).equals(open)) return `every public address (${family === 'ipv4' ? '0.0.0.0/0' : '::/0'} but private ranges)`;
  return cidrList(sources.toCidrs());
}
