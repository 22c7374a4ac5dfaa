// The packets a rule matches, as a conjunction of per-field sets, for proving
// that one rule covers another (every packet of B also matches A) or that two
// rules cannot match the same packet.
//
// Soundness: a rule's sets over-approximate what it matches (a test the model
// does not understand is simply left out: the rule then matches at most the
// modelled set). A rule may only act as the *covering* one when every test it
// makes is modelled exactly (`canCover`); tests outside the model (marks, ipsets,
// rate limits, opaque and unknown modules, …) make it non-covering. Tests that
// are deterministic functions of the packet but not modelled (addrtype, physdev,
// mac, pkttype, conntrack's original-tuple options) count as covered when the
// other rule makes the very same test.

import type {
  AddressMatch, ConntrackState, Family, IcmpTypeMatch, InterfaceMatch, Match, PortMatch, Rule,
} from '../../grammar/ast.ts';
import { AddressSet, addressToBigint, bitsOf } from '../../src/model/addrset.ts';

type Interval = readonly [number, number];
/** Sorted, disjoint, inclusive port intervals. */
export type PortSet = readonly Interval[];

const ALL_PORTS: PortSet = [[0, 65535]];

function normalisePorts(ranges: readonly (readonly [number, number])[]): PortSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function complementPorts(set: PortSet): PortSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of set) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= 65535) out.push([next, 65535]);
  return out;
}

function intersectPorts(x: PortSet, y: PortSet): PortSet {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const a = Math.max(x[i]![0], y[j]![0]);
    const b = Math.min(x[i]![1], y[j]![1]);
    if (a <= b) out.push([a, b]);
    if (x[i]![1] < y[j]![1]) i++; else j++;
  }
  return out;
}

/** Every interval of `inner` lies inside one interval of `outer` (both sorted and disjoint). */
function intervalsSubset<T extends number | bigint>(inner: readonly (readonly [T, T])[], outer: readonly (readonly [T, T])[]): boolean {
  let j = 0;
  for (const [a, b] of inner) {
    while (j < outer.length && outer[j]![1] < a) j++;
    const o = outer[j];
    if (!o || o[0] > a || o[1] < b) return false;
  }
  return true;
}

/** Some interval of `x` overlaps some interval of `y`. */
function intervalsOverlap<T extends number | bigint>(x: readonly (readonly [T, T])[], y: readonly (readonly [T, T])[]): boolean {
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    if (a1 <= b2 && a2 <= b1) return true;
    if (b1 < b2) i++; else j++;
  }
  return false;
}

function portsSubset(inner: PortSet, outer: PortSet): boolean {
  return intervalsSubset(inner, outer);
}

function portSetOf(match: PortMatch): PortSet {
  const set = normalisePorts(match.ranges.map((r) => [r.from, r.to] as const));
  return match.negated ? complementPorts(set) : set;
}

/** A protocol set: everything, exactly one protocol, or all but one. */
interface ProtocolSet {
  readonly is?: number;
  readonly not?: number;
}

const STATE_BITS: Readonly<Record<string, number>> = { INVALID: 1, NEW: 2, ESTABLISHED: 4, RELATED: 8, UNTRACKED: 16 };
const ALL_STATES = 31;

const TCP_FLAG_BITS: Readonly<Record<string, number>> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ALL: 63, NONE: 0 };

interface FlagTest {
  readonly mask: number;
  readonly compare: number;
  readonly negated: boolean;
}

function flagBits(names: readonly string[]): number {
  return names.reduce((bits, n) => bits | (TCP_FLAG_BITS[n] ?? 0), 0);
}

/** `--syn` is `--tcp-flags FIN,SYN,RST,ACK SYN`. */
const SYN_TEST = { mask: 1 | 2 | 4 | 16, compare: 2 };

export type Fragment = 'any' | 'head' | 'tail';

export interface PacketSpace {
  readonly rule: Rule;
  readonly family: Family;
  /** Every test of the rule is modelled exactly: it may be the covering rule. */
  readonly canCover: boolean;
  /** Provably matches no packet at all. */
  readonly empty: boolean;
  readonly protocol: ProtocolSet;
  readonly source: AddressSet;
  readonly destination: AddressSet;
  /** `-s`/`-d` is one plain prefix (no negation, mask or range): for indexing. */
  readonly sourcePrefix?: { readonly length: number; readonly base: bigint };
  readonly destinationPrefix?: { readonly length: number; readonly base: bigint };
  readonly inInterface?: InterfaceMatch;
  readonly outInterface?: InterfaceMatch;
  /** `! -f` (head), `-f` (tail). */
  readonly fragment: Fragment;
  /** A port or ICMP match: such matches never match a non-first fragment. */
  readonly transportHeader: boolean;
  readonly sourcePorts: PortSet;
  readonly destinationPorts: PortSet;
  /** multiport `--ports`: source or destination port in the set. */
  readonly eitherPorts: readonly PortSet[];
  readonly icmp: readonly IcmpTypeMatch[];
  readonly tcpFlags: readonly FlagTest[];
  /** Conntrack states (bits of INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED). */
  readonly states: number;
  /** Unmodelled deterministic tests this rule makes (their canonical text). */
  readonly sameTests: readonly string[];
  readonly sameTestSet: ReadonlySet<string>;
  /** It reads conntrack (states or conntrack options): CT/NOTRACK before it matter. */
  readonly readsConntrack: boolean;
}

function optionText(module: string, o: Match['options'][number]): string {
  return `${module} ${o.negated ? '! ' : ''}${o.name} ${o.values.join(' ')}`;
}

function wholeMatchText(m: Match): string {
  return `${m.module}:${m.options.map((o) => optionText(m.module, o)).sort().join(';')}`;
}

function addressSetOf(family: Family, match: AddressMatch | undefined, exact: { ok: boolean }): AddressSet {
  if (!match) return AddressSet.all(family);
  if (match.prefixLength >= 0) return AddressSet.fromMatch(family, match);
  // A non-prefix mask (`10.0.0.0/255.0.255.0`): over-approximate by the interval it spans.
  exact.ok = false;
  const bits = bitsOf(family);
  const base = addressToBigint(family, match.address);
  const mask = match.mask === undefined ? undefined : addressToBigint(family, match.mask);
  if (base === undefined || mask === undefined) return AddressSet.all(family);
  const full = (1n << BigInt(bits)) - 1n;
  const low = base & mask;
  const spanned = AddressSet.range(family, low, low | (full ^ mask));
  // Negated: the complement of the real set contains at least everything outside the span … and may include
  // addresses inside it, so the over-approximation of a negated mask is "all but the base address".
  return match.negated ? AddressSet.range(family, low, low).complement() : spanned;
}

function rangeSetOf(family: Family, range: { from: string; to: string; negated: boolean } | undefined): AddressSet {
  if (!range) return AddressSet.all(family);
  const from = addressToBigint(family, range.from);
  const to = addressToBigint(family, range.to);
  if (from === undefined || to === undefined) return AddressSet.all(family);
  const set = AddressSet.range(family, from, to);
  return range.negated ? set.complement() : set;
}

function plainPrefix(family: Family, match: AddressMatch | undefined): { length: number; base: bigint } | undefined {
  if (!match || match.negated || match.prefixLength < 0) return undefined;
  const value = addressToBigint(family, match.address);
  if (value === undefined) return undefined;
  const host = BigInt(bitsOf(family) - match.prefixLength);
  return { length: match.prefixLength, base: (value >> host) << host };
}

function normaliseInterface(match: InterfaceMatch | undefined): { value?: InterfaceMatch; empty: boolean } {
  if (!match) return { empty: false };
  if (match.wildcard && match.name === '') return match.negated ? { empty: true } : { empty: false };
  return { value: match, empty: false };
}

function stateBits(states: readonly ConntrackState[], negated: boolean): { bits: number; exact: boolean } {
  // SNAT and DNAT are flags of the connection, not states: a list naming them matches more than its states.
  if (states.some((s) => s === 'SNAT' || s === 'DNAT')) return { bits: ALL_STATES, exact: false };
  const bits = states.reduce((acc, s) => acc | (STATE_BITS[s] ?? 0), 0);
  return { bits: negated ? ALL_STATES & ~bits : bits, exact: true };
}

const spaces = new WeakMap<Rule, PacketSpace>();

/** The packet space of a rule (cached per rule object). */
export function packetSpace(rule: Rule, family: Family): PacketSpace {
  let space = spaces.get(rule);
  if (!space) {
    space = buildSpace(rule, family);
    spaces.set(rule, space);
  }
  return space;
}

function buildSpace(rule: Rule, family: Family): PacketSpace {
  const exact = { ok: true };
  let empty = false;
  let source = addressSetOf(family, rule.source, exact);
  let destination = addressSetOf(family, rule.destination, exact);
  let sourcePorts = ALL_PORTS;
  let destinationPorts = ALL_PORTS;
  const eitherPorts: PortSet[] = [];
  const icmp: IcmpTypeMatch[] = [];
  const tcpFlags: FlagTest[] = [];
  const sameTests: string[] = [];
  let states = ALL_STATES;
  let transportHeader = false;
  let readsConntrack = false;
  let sourceRange = false;
  let destinationRange = false;

  const restrictPorts = (which: 'source' | 'destination', match: PortMatch | undefined) => {
    if (!match) return;
    if (which === 'source') sourcePorts = intersectPorts(sourcePorts, portSetOf(match));
    else destinationPorts = intersectPorts(destinationPorts, portSetOf(match));
  };

  for (const m of rule.matches) {
    switch (m.kind) {
      case 'tcp': case 'udp': case 'sctp': case 'dccp':
        transportHeader = true;
        restrictPorts('source', m.sport);
        restrictPorts('destination', m.dport);
        if (m.kind === 'tcp') {
          if (m.tcpFlags) tcpFlags.push({ mask: flagBits(m.tcpFlags.mask), compare: flagBits(m.tcpFlags.compare), negated: m.tcpFlags.negated });
          if (m.syn) tcpFlags.push({ ...SYN_TEST, negated: m.syn.negated });
        }
        if (m.options.some((o) => !['--sport', '--dport', '--tcp-flags', '--syn'].includes(o.name))) exact.ok = false;
        break;
      case 'multiport':
        transportHeader = true;
        restrictPorts('source', m.sports);
        restrictPorts('destination', m.dports);
        if (m.ports) eitherPorts.push(portSetOf(m.ports));
        break;
      case 'icmp': case 'icmp6':
        transportHeader = true;
        if (m.icmpType) icmp.push(m.icmpType);
        break;
      case 'state':
        readsConntrack = true;
        if (m.state) {
          const s = stateBits(m.state.states, m.state.negated);
          states &= s.bits;
          if (!s.exact) sameTests.push(wholeMatchText(m));
        }
        break;
      case 'conntrack':
        readsConntrack = true;
        for (const o of m.options) {
          if (o.name === '--ctstate' && m.ctstate) {
            const s = stateBits(m.ctstate.states, m.ctstate.negated);
            states &= s.bits;
            if (!s.exact) sameTests.push(optionText('conntrack', o));
          } else {
            sameTests.push(optionText('conntrack', o));
          }
        }
        break;
      case 'iprange':
        if (m.srcRange) { source = source.intersect(rangeSetOf(family, m.srcRange)); sourceRange = true; }
        if (m.dstRange) { destination = destination.intersect(rangeSetOf(family, m.dstRange)); destinationRange = true; }
        break;
      case 'comment':
        break;
      case 'addrtype': case 'physdev': case 'mac': case 'pkttype':
        sameTests.push(wholeMatchText(m));
        break;
      default:
        // mark, connmark, set, opaque and unknown modules: not modelled.
        exact.ok = false;
        break;
    }
  }
  if (icmp.length > 1) exact.ok = false;

  const protocol: ProtocolSet = !rule.protocol ? {} : rule.protocol.negated ? { not: rule.protocol.number } : { is: rule.protocol.number };
  const inInterface = normaliseInterface(rule.inInterface);
  const outInterface = normaliseInterface(rule.outInterface);
  const fragment: Fragment = !rule.fragment ? 'any' : rule.fragment.negated ? 'head' : 'tail';
  empty = empty || inInterface.empty || outInterface.empty || source.isEmpty() || destination.isEmpty()
    || sourcePorts.length === 0 || destinationPorts.length === 0 || eitherPorts.some((p) => p.length === 0)
    || states === 0 || (fragment === 'tail' && transportHeader);
  return {
    rule,
    family,
    canCover: exact.ok,
    empty,
    protocol,
    source,
    destination,
    sourcePrefix: sourceRange ? undefined : plainPrefix(family, rule.source),
    destinationPrefix: destinationRange ? undefined : plainPrefix(family, rule.destination),
    inInterface: inInterface.value,
    outInterface: outInterface.value,
    fragment,
    transportHeader,
    sourcePorts,
    destinationPorts,
    eitherPorts,
    icmp,
    tcpFlags,
    states,
    sameTests,
    sameTestSet: new Set(sameTests),
    readsConntrack,
  };
}

// ---------------------------------------------------------------------------
// Interfaces: an exact name, a `+` prefix, or the negation of either.

function nameIn(name: string, m: InterfaceMatch): boolean {
  const hit = m.wildcard ? name.startsWith(m.name) : name === m.name;
  return m.negated ? !hit : hit;
}

/** Every interface name `inner` matches, `outer` matches too (undefined = any interface). */
export function interfaceSubset(inner: InterfaceMatch | undefined, outer: InterfaceMatch | undefined): boolean {
  if (!outer) return true;
  if (!inner) return false;
  if (!inner.negated) {
    if (!inner.wildcard) return nameIn(inner.name, outer);
    // inner = every name starting with p.
    const p = inner.name;
    if (!outer.negated) return outer.wildcard && p.startsWith(outer.name);
    // outer = all but Q: P ⊆ ¬Q ⇔ P ∩ Q = ∅.
    return outer.wildcard ? !p.startsWith(outer.name) && !outer.name.startsWith(p) : !outer.name.startsWith(p);
  }
  // inner = all but P (infinite): only a negated outer can contain it, when outer's excluded set ⊆ P.
  if (!outer.negated) return false;
  const pIn = { ...inner, negated: false };
  if (!outer.wildcard) return nameIn(outer.name, pIn);
  return inner.wildcard && outer.name.startsWith(inner.name);
}

/** No interface name matches both. */
export function interfacesDisjoint(a: InterfaceMatch | undefined, b: InterfaceMatch | undefined): boolean {
  if (!a || !b) return false;
  if (a.negated && b.negated) return false;
  if (a.negated) return interfaceSubset(b, { ...a, negated: false });
  if (b.negated) return interfaceSubset(a, { ...b, negated: false });
  if (!a.wildcard && !b.wildcard) return a.name !== b.name;
  if (!a.wildcard) return !a.name.startsWith(b.name);
  if (!b.wildcard) return !b.name.startsWith(a.name);
  return !a.name.startsWith(b.name) && !b.name.startsWith(a.name);
}

// ---------------------------------------------------------------------------
// ICMP types: (type, code) pairs; type -1 is "any".

function icmpSubset(inner: IcmpTypeMatch, outer: IcmpTypeMatch): boolean {
  const outerAll = outer.type === -1;
  if (outerAll) return !outer.negated;
  if (!outer.negated) {
    return !inner.negated && inner.type === outer.type && (outer.code === undefined || inner.code === outer.code);
  }
  // outer = all but (type[, code]).
  if (!inner.negated) {
    if (inner.type === -1) return false;
    if (inner.type !== outer.type) return true;
    return outer.code !== undefined && inner.code !== undefined && inner.code !== outer.code;
  }
  // ¬I ⊆ ¬O ⇔ O ⊆ I.
  return icmpSubset({ ...outer, negated: false }, { ...inner, negated: false });
}

function icmpDisjoint(a: IcmpTypeMatch, b: IcmpTypeMatch): boolean {
  if (a.negated && b.negated) return false;
  if (a.negated) return icmpSubset(b, { ...a, negated: false });
  if (b.negated) return icmpSubset(a, { ...b, negated: false });
  if (a.type === -1 || b.type === -1) return false;
  if (a.type !== b.type) return true;
  return a.code !== undefined && b.code !== undefined && a.code !== b.code;
}

// ---------------------------------------------------------------------------

function protocolSubset(inner: ProtocolSet, outer: ProtocolSet): boolean {
  if (outer.is !== undefined) return inner.is === outer.is;
  if (outer.not !== undefined) return (inner.is !== undefined && inner.is !== outer.not) || inner.not === outer.not;
  return true;
}

function protocolsDisjoint(a: ProtocolSet, b: ProtocolSet): boolean {
  if (a.is !== undefined && b.is !== undefined) return a.is !== b.is;
  if (a.is !== undefined && b.not !== undefined) return a.is === b.not;
  if (a.not !== undefined && b.is !== undefined) return a.not === b.is;
  return false;
}

function sameFlagTest(a: FlagTest, b: FlagTest): boolean {
  return a.mask === b.mask && a.compare === b.compare && a.negated === b.negated;
}

/**
 * Every packet `inner` can match, `outer` matches too. `outer` must be able to
 * cover (`canCover`); `inner` is taken as its over-approximation.
 */
export function covers(outer: PacketSpace, inner: PacketSpace): boolean {
  // Cheap, usually decisive tests first.
  if (!outer.canCover) return false;
  if (!protocolSubset(inner.protocol, outer.protocol)) return false;
  if ((inner.states & ~outer.states) !== 0) return false;
  if (!portsSubset(inner.destinationPorts, outer.destinationPorts)) return false;
  if (!portsSubset(inner.sourcePorts, outer.sourcePorts)) return false;
  if (!interfaceSubset(inner.inInterface, outer.inInterface)) return false;
  if (!interfaceSubset(inner.outInterface, outer.outInterface)) return false;
  if (!intervalsSubset(inner.source.intervals, outer.source.intervals)) return false;
  if (!intervalsSubset(inner.destination.intervals, outer.destination.intervals)) return false;
  const innerHead = inner.fragment === 'head' || inner.transportHeader;
  if (outer.fragment === 'head' && !innerHead) return false;
  if (outer.fragment === 'tail' && inner.fragment !== 'tail') return false;
  if (outer.transportHeader && !innerHead) return false;
  for (const either of outer.eitherPorts) {
    const ok = portsSubset(inner.sourcePorts, either) || portsSubset(inner.destinationPorts, either)
      || inner.eitherPorts.some((p) => portsSubset(p, either));
    if (!ok) return false;
  }
  for (const test of outer.icmp) {
    if (!inner.icmp.some((t) => icmpSubset(t, test))) return false;
  }
  for (const test of outer.tcpFlags) {
    if (!inner.tcpFlags.some((t) => sameFlagTest(t, test))) return false;
  }
  for (const test of outer.sameTests) if (!inner.sameTestSet.has(test)) return false;
  return true;
}

/** No packet can match both (each taken as its over-approximation). */
export function disjoint(a: PacketSpace, b: PacketSpace): boolean {
  if (a.empty || b.empty) return true;
  if (protocolsDisjoint(a.protocol, b.protocol)) return true;
  if (!intervalsOverlap(a.source.intervals, b.source.intervals)) return true;
  if (!intervalsOverlap(a.destination.intervals, b.destination.intervals)) return true;
  if (interfacesDisjoint(a.inInterface, b.inInterface)) return true;
  if (interfacesDisjoint(a.outInterface, b.outInterface)) return true;
  const aHead = a.fragment === 'head' || a.transportHeader;
  const bHead = b.fragment === 'head' || b.transportHeader;
  if ((a.fragment === 'tail' && bHead) || (b.fragment === 'tail' && aHead)) return true;
  if (!intervalsOverlap(a.sourcePorts, b.sourcePorts)) return true;
  if (!intervalsOverlap(a.destinationPorts, b.destinationPorts)) return true;
  for (const x of a.icmp) for (const y of b.icmp) if (icmpDisjoint(x, y)) return true;
  for (const x of a.tcpFlags) {
    for (const y of b.tcpFlags) if (x.mask === y.mask && x.compare === y.compare && x.negated !== y.negated) return true;
  }
  return (a.states & b.states) === 0;
}
