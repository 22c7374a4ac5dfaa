// Compiles AST rules into predicates over a packet, once per ruleset.
//
// Every predicate answers three-valued (MATCH / NO / UNKNOWN): a match whose
// outcome cannot be known from the dump (`-m set` without set contents,
// `recent`, `limit`, `statistic`, `string`, `u32`, unknown modules …) says
// UNKNOWN and names itself, instead of guessing. Predicates that depend on the
// source address also expose the address set they test, so the exposure
// analysis can split the source space exactly along the ruleset's boundaries.

import type { AddressMatch, Family, InterfaceMatch, Match, PortMatch, Rule } from '../../grammar/ast.ts';
import { maskToPrefixIPv4, maskToPrefixIPv6, parseIPv4, parseIPv6 } from '../../grammar/address.ts';
import { AddressSet } from '../model/addrset.ts';
import type { CtState } from './types.ts';

export const NO = 0;
export const MATCH = 1;
export const UNKNOWN = 2;
export type Tri = typeof NO | typeof MATCH | typeof UNKNOWN;

export const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ALL: 0x3f, NONE: 0,
};

/** The packet as the simulator mutates it along its path (copied on every rewrite). */
export interface SimPacket {
  readonly family: Family;
  readonly proto: number;
  readonly src: string;
  readonly dst: string;
  /** Numeric addresses: number for IPv4, bigint for IPv6. */
  readonly srcValue: number | bigint;
  readonly dstValue: number | bigint;
  readonly sport: number;
  readonly dport: number;
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly tcpFlags: number;
  readonly inInterface: string;
  readonly outInterface: string;
  readonly state: CtState;
  readonly mark: number;
  readonly connmark: number;
  readonly fragment: boolean;
  readonly fromHost: boolean;
  /** The connection's original-direction tuple (before any NAT). */
  readonly orig: { readonly src: string; readonly dst: string; readonly srcValue: number | bigint; readonly dstValue: number | bigint; readonly sport: number; readonly dport: number };
  readonly direction: 'ORIGINAL' | 'REPLY';
  readonly dnatted: boolean;
  readonly snatted: boolean;
}

/** What predicates may ask about the host. */
export interface HostFacts {
  isLocal(family: Family, value: number | bigint, text: string): Tri;
  /** Addresses certainly the host's (loopback, given, bridge gateways): a source is local only if it is one of these. */
  readonly knownLocal: AddressSet;
  /** Subnets of Docker bridges that are not internal: the content of Docker 28.0.0's docker-ext-bridges ipsets. */
  readonly extBridgeSubnets: AddressSet;
  /**
   * Interfaces with net.ipv4.conf.<if>.route_localnet=1, where the kernel routes a packet for
   * 127.0.0.0/8 that arrives on them instead of dropping it: Docker's bridges with the userland
   * proxy off (so 127.0.0.1 DNAT works for containers).
   */
  readonly routeLocalnet: ReadonlySet<string>;
}

/**
 * A test on the source address that can have more than two outcomes (which rule of a
 * blocklist matches): it cuts a class of sources into the parts on which its outcome is constant.
 */
export interface SourcePartition {
  /** The non-empty parts of `sources` with one outcome each (just `sources` when it has one). */
  partition(sources: AddressSet): AddressSet[];
}

/**
 * Reported when a source test whose set exposure can only approximate was decisive: every other test of its rule held,
 * so members of the class may fare otherwise than the one walked. Splits nothing.
 */
export interface ApproximationNote extends SourcePartition {
  /** Why, for the answer's `partial`. */
  readonly approximation: string;
}

/** What a walk tested the source against: a set (in or out), or a many-way partition. */
export type SourceTest = AddressSet | SourcePartition | ApproximationNote;

export interface EvalContext {
  readonly facts: HostFacts;
  /** Collects what source-dependent predicates tested (for exposure refinement). */
  sourceSets?: SourceTest[];
}

export type Predicate = (p: SimPacket, ctx: EvalContext) => Tri;

export interface CompiledRule {
  readonly rule: Rule;
  readonly predicates: readonly Predicate[];
  /** Why a predicate may be UNKNOWN, for the uncertainty report. */
  readonly unknownReasons: readonly string[];
  /**
   * The source sets its tests report that exposure can only approximate, with why (a dotted
   * mask with too many free bits: the exact set has more than 2^16 ranges). The walk itself
   * tests the exact bits; only the split of source classes is approximate. Absent when none.
   */
  readonly approximateSets?: ReadonlyMap<AddressSet, string>;
}

function effectiveSet(family: Family, match: AddressMatch): AddressSet {
  const set = AddressSet.fromMatch(family, { ...match, negated: false });
  return match.negated ? set.complement() : set;
}

/** The set a source test reports, entered in `approximateSets` with why when exposure can only approximate it. */
function reportedSourceSet(family: Family, match: AddressMatch, approximateSets: Map<AddressSet, string>): AddressSet {
  const set = effectiveSet(family, match);
  const freeBits = match.prefixLength === -1 && match.mask !== undefined ? AddressSet.approximatedMaskBits(family, match.mask) : 0;
  if (freeBits > 0) {
    approximateSets.set(set, `${match.negated ? '! ' : ''}${match.address}/${match.mask} leaves ${freeBits} bits free above its lowest set bit: `
      + `its exact sources are 2^${freeBits} ranges, approximated by the mask's leading prefix`);
  }
  return set;
}

function addressPredicate(
  family: Family, match: AddressMatch, pick: (p: SimPacket) => number | bigint, sourceSide: boolean, approximateSets: Map<AddressSet, string>,
): Predicate {
  const negated = match.negated;
  // Only a source test reports its set; most address tests are on the destination.
  const effective = sourceSide ? reportedSourceSet(family, match, approximateSets) : undefined;
  if (family === 'ipv4') {
    const net = parseIPv4(match.address) ?? 0;
    const prefix = match.prefixLength === -1 ? maskToPrefixIPv4(parseIPv4(match.mask ?? '') ?? 0) : match.prefixLength;
    const maskBits = prefix <= 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    const exactMask = match.prefixLength === -1 ? (parseIPv4(match.mask ?? '') ?? 0) : maskBits;
    return (p, ctx) => {
      if (effective && ctx.sourceSets) ctx.sourceSets.push(effective);
      const hit = ((pick(p) as number) & exactMask) >>> 0 === (net & exactMask) >>> 0;
      return hit !== negated ? MATCH : NO;
    };
  }
  const net = parseIPv6(match.address) ?? 0n;
  const prefix = match.prefixLength === -1 ? maskToPrefixIPv6(parseIPv6(match.mask ?? '') ?? 0n) : match.prefixLength;
  const mask = match.prefixLength === -1 ? (parseIPv6(match.mask ?? '') ?? 0n) : prefix <= 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  return (p, ctx) => {
    if (effective && ctx.sourceSets) ctx.sourceSets.push(effective);
    const hit = ((pick(p) as bigint) & mask) === (net & mask);
    return hit !== negated ? MATCH : NO;
  };
}

export function interfaceMatches(match: InterfaceMatch, name: string): boolean {
  const hit = match.wildcard ? name.startsWith(match.name) : name === match.name;
  return hit !== match.negated;
}

function portIn(match: PortMatch, port: number): boolean {
  let hit = false;
  for (const r of match.ranges) if (port >= r.from && port <= r.to) { hit = true; break; }
  return hit !== match.negated;
}

function tri(b: boolean): Tri {
  return b ? MATCH : NO;
}

const PROTOCOL_OF_MODULE: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132, dccp: 33 };

function stateOf(p: SimPacket): CtState {
  return p.state;
}

function compileMatch(family: Family, m: Match, unknownReasons: string[], approximateSets: Map<AddressSet, string>): Predicate | undefined {
  switch (m.kind) {
    case 'tcp': case 'udp': case 'sctp': case 'dccp': {
      const protocol = m.module === 'udplite' ? 136 : PROTOCOL_OF_MODULE[m.kind]!;
      const { sport, dport } = m;
      const flags = m.kind === 'tcp' ? m.tcpFlags : undefined;
      const syn = m.kind === 'tcp' ? m.syn : undefined;
      const flagMask = flags ? flags.mask.reduce((a, f) => a | (TCP_FLAG_BITS[f] ?? 0), 0) : 0;
      const flagCompare = flags ? flags.compare.reduce((a, f) => a | (TCP_FLAG_BITS[f] ?? 0), 0) : 0;
      return (p) => {
        if (p.proto !== protocol || p.fragment) return NO;
        if (sport && !portIn(sport, p.sport)) return NO;
        if (dport && !portIn(dport, p.dport)) return NO;
        if (flags && ((p.tcpFlags & flagMask) === flagCompare) === flags.negated) return NO;
        if (syn) {
          const isSyn = (p.tcpFlags & (0x02 | 0x10 | 0x04 | 0x01)) === 0x02;
          if (isSyn === syn.negated) return NO;
        }
        return MATCH;
      };
    }
    case 'icmp': case 'icmp6': {
      const t = m.icmpType;
      const protocol = m.kind === 'icmp' ? 1 : 58;
      if (!t) return (p) => tri(p.proto === protocol);
      return (p) => {
        if (p.proto !== protocol) return NO;
        const hit = t.type === -1 || (p.icmpType === t.type && (t.code === undefined || p.icmpCode === t.code));
        return tri(hit !== t.negated);
      };
    }
    case 'multiport': {
      const { sports, dports, ports } = m;
      return (p) => {
        if (p.fragment) return NO;
        if (sports) return tri(portIn(sports, p.sport));
        if (dports) return tri(portIn(dports, p.dport));
        if (ports) {
          const hit = ports.ranges.some((r) => (p.sport >= r.from && p.sport <= r.to) || (p.dport >= r.from && p.dport <= r.to));
          return tri(hit !== ports.negated);
        }
        return MATCH;
      };
    }
    case 'state': case 'conntrack': {
      const parts: Predicate[] = [];
      const states = m.kind === 'state' ? m.state : m.ctstate;
      if (states) {
        const wanted = new Set(states.states);
        parts.push((p) => {
          const s = stateOf(p);
          let hit = wanted.has(s);
          if (!hit && p.dnatted && wanted.has('DNAT')) hit = true;
          if (!hit && p.snatted && wanted.has('SNAT')) hit = true;
          return tri(hit !== states.negated);
        });
      }
      if (m.kind === 'conntrack') {
        if (m.ctdir) {
          const dir = m.ctdir;
          parts.push((p) => (p.state === 'UNTRACKED' || p.state === 'INVALID' ? NO : tri(p.direction === dir)));
        }
        if (m.ctproto) {
          const ctp = m.ctproto;
          parts.push((p) => (p.state === 'UNTRACKED' || p.state === 'INVALID' ? NO : tri((ctp.number === 0 || p.proto === ctp.number) !== ctp.negated)));
        }
        const tracked = (inner: Predicate): Predicate => (p, ctx) => (p.state === 'UNTRACKED' || p.state === 'INVALID' ? NO : inner(p, ctx));
        if (m.ctorigsrc) parts.push(tracked(addressPredicate(family, m.ctorigsrc, (p) => p.orig.srcValue, true, approximateSets)));
        if (m.ctorigdst) parts.push(tracked(addressPredicate(family, m.ctorigdst, (p) => p.orig.dstValue, false, approximateSets)));
        // Reply tuple: the reply comes from where the packet is now headed (post-DNAT) back to its source.
        if (m.ctreplsrc) parts.push(tracked(addressPredicate(family, m.ctreplsrc, (p) => (p.direction === 'ORIGINAL' ? p.dstValue : p.orig.dstValue), false, approximateSets)));
        if (m.ctrepldst) parts.push(tracked(addressPredicate(family, m.ctrepldst, (p) => p.orig.srcValue, true, approximateSets)));
        const port = (pm: PortMatch | undefined, pick: (p: SimPacket) => number) => {
          if (pm) parts.push((p) => (p.state === 'UNTRACKED' || p.state === 'INVALID' || !(p.proto === 6 || p.proto === 17 || p.proto === 132) ? NO : tri(portIn(pm, pick(p)))));
        };
        port(m.ctorigsrcport, (p) => p.orig.sport);
        port(m.ctorigdstport, (p) => p.orig.dport);
        port(m.ctreplsrcport, (p) => (p.direction === 'ORIGINAL' ? p.dport : p.orig.dport));
        port(m.ctrepldstport, (p) => p.orig.sport);
        if (m.ctstatus) {
          unknownReasons.push('conntrack --ctstatus depends on the connection\'s history');
          parts.push(() => UNKNOWN);
        }
        if (m.options.some((o) => o.name === '--ctexpire')) {
          unknownReasons.push('conntrack --ctexpire depends on timers');
          parts.push(() => UNKNOWN);
        }
      }
      return all(parts);
    }
    case 'addrtype': {
      const parts: Predicate[] = [];
      const typeTest = (types: readonly string[], negated: boolean, pick: (p: SimPacket) => [number | bigint, string], source: boolean): Predicate => (p, ctx) => {
        const [value, text] = pick(p);
        let result: Tri = NO;
        for (const type of types) {
          let r: Tri;
          if (type === 'LOCAL') {
            if (source) {
              if (ctx.sourceSets) ctx.sourceSets.push(ctx.facts.knownLocal);
              r = p.fromHost || ctx.facts.knownLocal.contains(BigInt(value)) ? MATCH : NO;
            } else {
              r = ctx.facts.isLocal(family, value, text);
            }
          }
          else if (type === 'MULTICAST') {
            if (source && ctx.sourceSets) ctx.sourceSets.push(MULTICAST_SETS[family]);
            r = tri(isMulticast(family, value));
          } else if (type === 'BROADCAST') {
            if (source && ctx.sourceSets) ctx.sourceSets.push(BROADCAST_SETS[family]);
            r = family === 'ipv4' && value === 0xffffffff ? MATCH : NO;
          } else if (type === 'UNICAST') {
            if (source && ctx.sourceSets) ctx.sourceSets.push(MULTICAST_SETS[family], ctx.facts.knownLocal);
            // A source is the host's own only if it is certainly one of its addresses.
            const local = source ? tri(ctx.facts.knownLocal.contains(BigInt(value))) : ctx.facts.isLocal(family, value, text);
            r = isMulticast(family, value) ? NO : local === MATCH ? NO : local === NO ? MATCH : UNKNOWN;
          } else r = NO;
          if (r === MATCH) { result = MATCH; break; }
          if (r === UNKNOWN) result = UNKNOWN;
        }
        if (result === UNKNOWN) return UNKNOWN;
        return tri((result === MATCH) !== negated);
      };
      if (m.srcType) { const s = m.srcType; parts.push(typeTest(s.types, s.negated, (p) => [p.srcValue, p.src], true)); }
      if (m.dstType) { const d = m.dstType; parts.push(typeTest(d.types, d.negated, (p) => [p.dstValue, p.dst], false)); }
      return all(parts);
    }
    case 'iprange': {
      const parts: Predicate[] = [];
      const range = (r: { from: string; to: string; negated: boolean }, source: boolean, pick: (p: SimPacket) => number | bigint): Predicate => {
        const from = family === 'ipv4' ? BigInt(parseIPv4(r.from) ?? 0) : (parseIPv6(r.from) ?? 0n);
        const to = family === 'ipv4' ? BigInt(parseIPv4(r.to) ?? 0) : (parseIPv6(r.to) ?? 0n);
        const set = AddressSet.range(family, from, to);
        const effective = r.negated ? set.complement() : set;
        return (p, ctx) => {
          if (source && ctx.sourceSets) ctx.sourceSets.push(effective);
          const v = BigInt(pick(p));
          return tri((v >= from && v <= to) !== r.negated);
        };
      };
      if (m.srcRange) parts.push(range(m.srcRange, true, (p) => p.srcValue));
      if (m.dstRange) parts.push(range(m.dstRange, false, (p) => p.dstValue));
      return all(parts);
    }
    case 'comment':
      return undefined;
    case 'mark': case 'connmark': {
      const mk = m.mark;
      if (!mk) return undefined;
      const pick = m.kind === 'mark' ? (p: SimPacket) => p.mark : (p: SimPacket) => p.connmark;
      return (p) => tri((((pick(p) & mk.mask) >>> 0) === ((mk.value & mk.mask) >>> 0)) !== mk.negated);
    }
    case 'set': {
      // Docker 28.0.0's ipsets hold exactly the subnets of its non-internal bridges.
      if (/^docker-ext-bridges-v[46]$/.test(m.setName) && m.directions.length === 1) {
        const onSource = m.directions[0] === 'src';
        return (p, ctx) => {
          const value = onSource ? p.srcValue : p.dstValue;
          const hit = ctx.facts.extBridgeSubnets.contains(BigInt(value));
          return tri(hit !== m.negated);
        };
      }
      unknownReasons.push(`-m set --match-set ${m.setName}: the set's contents are not in the dump`);
      return () => UNKNOWN;
    }
    case 'physdev':
      unknownReasons.push('-m physdev depends on bridge ports, which the dump does not show');
      return () => UNKNOWN;
    case 'mac':
      unknownReasons.push('-m mac depends on the sender\'s hardware address');
      return () => UNKNOWN;
    case 'pkttype': {
      const t = m.pktType;
      if (!t) return undefined;
      return (p) => {
        const multicast = isMulticast(family, p.dstValue);
        const broadcast = family === 'ipv4' && p.dstValue === 0xffffffff;
        const type = broadcast ? 'broadcast' : multicast ? 'multicast' : 'unicast';
        return tri((type === t.type || (t.type === 'host' && type === 'unicast')) !== t.negated);
      };
    }
    case 'opaque': case 'unknown': {
      unknownReasons.push(`-m ${m.module}: ${m.kind === 'unknown' ? 'module unknown to dockfw-lint' : 'depends on state or payload the dump does not show'}`);
      return () => UNKNOWN;
    }
  }
}

const MULTICAST_SETS: Readonly<Record<Family, AddressSet>> = {
  ipv4: AddressSet.fromCidrs('ipv4', ['224.0.0.0/4']),
  ipv6: AddressSet.fromCidrs('ipv6', ['ff00::/8']),
};
const BROADCAST_SETS: Readonly<Record<Family, AddressSet>> = {
  ipv4: AddressSet.fromCidrs('ipv4', ['255.255.255.255/32']),
  ipv6: AddressSet.empty('ipv6'),
};

function isMulticast(family: Family, value: number | bigint): boolean {
  if (family === 'ipv4') return ((value as number) >>> 28) === 0xe;
  return ((value as bigint) >> 120n) === 0xffn;
}

function all(parts: readonly Predicate[]): Predicate | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return (p, ctx) => {
    let result: Tri = MATCH;
    for (const part of parts) {
      const r = part(p, ctx);
      if (r === NO) return NO;
      if (r === UNKNOWN) result = UNKNOWN;
    }
    return result;
  };
}

export function compileRule(family: Family, rule: Rule): CompiledRule {
  const predicates: Predicate[] = [];
  const unknownReasons: string[] = [];
  const approximateSets = new Map<AddressSet, string>();
  if (rule.protocol) {
    const { number, negated } = rule.protocol;
    predicates.push((p) => tri((p.proto === number) !== negated));
  }
  if (rule.source) predicates.push(addressPredicate(family, rule.source, (p) => p.srcValue, true, approximateSets));
  if (rule.destination) predicates.push(addressPredicate(family, rule.destination, (p) => p.dstValue, false, approximateSets));
  if (rule.inInterface) { const i = rule.inInterface; predicates.push((p) => tri(interfaceMatches(i, p.inInterface))); }
  if (rule.outInterface) { const o = rule.outInterface; predicates.push((p) => tri(interfaceMatches(o, p.outInterface))); }
  if (rule.fragment) { const f = rule.fragment; predicates.push((p) => tri(p.fragment !== f.negated)); }
  for (const m of rule.matches) {
    const predicate = compileMatch(family, m, unknownReasons, approximateSets);
    if (predicate) predicates.push(predicate);
  }
  return approximateSets.size > 0 ? { rule, predicates, unknownReasons, approximateSets } : { rule, predicates, unknownReasons };
}

export function evaluateRule(compiled: CompiledRule, p: SimPacket, ctx: EvalContext): Tri {
  if (compiled.approximateSets && ctx.sourceSets) return evaluateNotingApproximations(compiled, compiled.approximateSets, ctx.sourceSets, p, ctx);
  let result: Tri = MATCH;
  for (const predicate of compiled.predicates) {
    const r = predicate(p, ctx);
    if (r === NO) return NO;
    if (r === UNKNOWN) result = UNKNOWN;
  }
  return result;
}

/**
 * evaluateRule for exposure on a rule with a source set exposure can only approximate: when a
 * test reports such a set and every other test of the rule holds, the rule hangs on it, and
 * members of the class may fare otherwise than the one walked: an ApproximationNote says so.
 */
function evaluateNotingApproximations(
  compiled: CompiledRule, approximateSets: ReadonlyMap<AddressSet, string>, sets: SourceTest[], p: SimPacket, ctx: EvalContext,
): Tri {
  let result: Tri = MATCH;
  const predicates = compiled.predicates;
  for (let i = 0; i < predicates.length; i++) {
    const tested = sets.length;
    const r = predicates[i]!(p, ctx);
    const approximation = approximationSince(sets, tested, approximateSets);
    if (approximation !== undefined && othersHold(predicates, i, p, ctx)) {
      sets.push({ approximation, partition: (sources) => [sources] } satisfies ApproximationNote);
    }
    if (r === NO) return NO;
    if (r === UNKNOWN) result = UNKNOWN;
  }
  return result;
}

/** Why a set reported since `from` is approximate, if one is. */
function approximationSince(sets: readonly SourceTest[], from: number, approximateSets: ReadonlyMap<AddressSet, string>): string | undefined {
  for (let k = from; k < sets.length; k++) {
    const reason = sets[k] instanceof AddressSet ? approximateSets.get(sets[k] as AddressSet) : undefined;
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Whether every predicate but the `skip`th may hold for `p` (the rule's outcome then hangs on that one). */
function othersHold(predicates: readonly Predicate[], skip: number, p: SimPacket, ctx: EvalContext): boolean {
  // Evaluated without collecting: these tests are only asked, not walked.
  const sets = ctx.sourceSets;
  ctx.sourceSets = undefined;
  try {
    for (let k = 0; k < predicates.length; k++) if (k !== skip && predicates[k]!(p, ctx) === NO) return false;
    return true;
  } finally {
    ctx.sourceSets = sets;
  }
}
