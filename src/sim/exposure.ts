// Who can open a new connection to what.
//
// The source address space is split lazily into classes along exactly the
// boundaries the walk actually tests: a class's representative is walked,
// every source-dependent predicate it meets reports the address set it
// tested, and a class that straddles one of those sets is split and its
// halves walked again (a blocklist run reports its partition by first matching
// rule, and the class is cut into all its parts at once). When no class
// straddles anything, every member of a class takes the representative's path,
// so the answer is exact for the modelled matches, with one walk per class
// instead of one per address.

import type { Family, Rule } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import { compareCodeUnits } from '../model/order.ts';
import type { SourceTest } from './compile.ts';
import type { RulesetSimulator } from './index.ts';
import { toSimPacket } from './index.ts';
import { mentionsOf, REPRESENTATIVE_LOCAL_ADDRESSES, UNUSED_PORT_CANDIDATES } from './mentions.ts';
import { walk } from './traverse.ts';
import type { ConditionalReach, ExposureCondition, ExposureEntry, L4Protocol, ReachableFrom, RulesetExposure, Trace } from './types.ts';

/** Guard against pathological rulesets: past this many classes per question, the answer is marked partial. */
const MAX_CLASSES = 4096;

/** The interface name that stands for "any other interface". */
export const OTHER_INTERFACE = '*';
/** The interface name walked for "any other interface". */
export const OTHER_INTERFACE_NAME = 'dfw-other0';

export interface ClassResult {
  readonly sources: AddressSet;
  /**
   * `question.reached` holds for the walk's verdict, which is `unknown` when the outcomes of
   * undecidable matches differ: for exposure's questions, reached whatever those matches do.
   */
  readonly accepted: boolean;
  /** Not accepted, yet reached on some outcomes of undecidable matches: `conditions` names them. */
  readonly conditional: boolean;
  /** Reached when no undecidable match matches (the walk's first outcome). */
  readonly reachedByDefault: boolean;
  /** The outcomes of undecidable matches led to different verdicts (whatever `reached` makes of that). */
  readonly uncertain: boolean;
  /** The undecidable rules the verdict depends on, when it is uncertain. */
  readonly conditions: readonly ExposureCondition[];
  readonly reason: string;
  readonly decidedBy?: Rule;
}

export interface Question {
  readonly proto: L4Protocol;
  readonly dst: string;
  readonly dport?: number;
  readonly inInterface: string;
  /** Counts as reached: the packet arrives where this predicate says. */
  readonly reached: (trace: Pick<Trace, 'verdict' | 'reaches'>) => boolean;
}

export let exposureWalks = 0;

export interface SourceClasses {
  readonly classes: ClassResult[];
  /** Why the classes are approximate, when they are. */
  readonly partial?: string;
}

export function reachableSources(sim: RulesetSimulator, question: Question): SourceClasses {
  const family = sim.host.family;
  const results: ClassResult[] = [];
  const queue: AddressSet[] = [AddressSet.all(family)];
  const approximations = new Set<string>();
  let truncated = false;
  let walks = 0;
  while (queue.length > 0) {
    const cls = queue.pop()!;
    const sample = cls.sample();
    if (sample === undefined) continue;
    const src = formatSample(family, sample);
    const packet = toSimPacket({
      family, proto: question.proto, src, dst: question.dst, dport: question.dport, sport: 40000,
      inInterface: question.inInterface === OTHER_INTERFACE ? OTHER_INTERFACE_NAME : question.inInterface, state: 'NEW',
    }, sim.host);
    const sourceSets: SourceTest[] = [];
    const result = walk(packet, { compiled: sim.compiled, host: sim.host, facts: sim.facts, sourceSets });
    walks++;
    exposureWalks++;
    let split = false;
    if (walks < MAX_CLASSES) {
      for (const tested of sourceSets) {
        if ('approximation' in tested) approximations.add(tested.approximation);
        const parts = tested instanceof AddressSet ? inAndOut(cls, tested) : tested.partition(cls);
        if (parts.length < 2) continue;
        for (const part of parts) queue.push(part);
        split = true;
        break;
      }
    } else {
      truncated = true;
    }
    if (split) continue;
    const trace = { verdict: result.verdict, reaches: result.primary.reaches };
    const accepted = question.reached(trace);
    // An undecidable match (an ipset, `recent` …) makes the walk try both of its outcomes:
    // when only some of them get through, the sources are reachable depending on it.
    const conditional = !accepted && result.outcomes.length > 1 && result.outcomes.some((o) => question.reached(o));
    const uncertain = result.verdict === 'unknown';
    results.push({
      sources: cls, accepted, conditional, reachedByDefault: question.reached(result.primary), uncertain,
      conditions: conditional || uncertain ? mergeConditions(result.outcomes.map((o) => o.uncertain)) : [],
      reason: result.primary.reason, decidedBy: result.primary.decidedBy,
    });
  }
  const reasons = [...approximations];
  if (truncated) reasons.push(`more than ${MAX_CLASSES} source classes to tell apart: the last ones were not split further`);
  return reasons.length > 0 ? { classes: results, partial: reasons.join('; ') } : { classes: results };
}

/**
 * Whether a class's sources get through, counting those only an undecidable DROP may stop (a
 * blocklist ipset, a `recent` guard) as getting through: such a rule is no restriction for
 * the lint rules that ask who may reach a port. An undecidable rule that lets sources in (an
 * allow-list) is one.
 */
export function reachedUnlessBlocklisted(c: ClassResult): boolean {
  return c.accepted || (c.conditional && c.reachedByDefault);
}

/** "line 5 (-m recent: …), line 7 (…)": undecidable rules as messages name them. */
export function conditionsText(conditions: readonly ExposureCondition[]): string {
  return conditions.map((c) => `line ${c.line} (${c.reason})`).join(', ');
}

/** Undecidable rules from several answers, once each (the first reason given for a line), by line. */
export function mergeConditions(lists: Iterable<readonly ExposureCondition[]>): ExposureCondition[] {
  const byLine = new Map<number, string>();
  for (const list of lists) for (const c of list) if (!byLine.has(c.line)) byLine.set(c.line, c.reason);
  return [...byLine].sort((a, b) => a[0] - b[0]).map(([line, reason]) => ({ line, reason }));
}

function inAndOut(cls: AddressSet, set: AddressSet): AddressSet[] {
  const inside = cls.intersect(set);
  if (inside.isEmpty()) return [cls];
  const outside = cls.subtract(set);
  return outside.isEmpty() ? [cls] : [inside, outside];
}

function formatSample(family: Family, value: bigint): string {
  return AddressSet.range(family, value, value).toCidrs()[0]!.split('/')[0]!;
}

/** External interfaces to ask about: the configured ones, or those the ruleset names plus "any other". */
export function candidateInterfaces(sim: RulesetSimulator, configured: readonly string[] | undefined): string[] {
  if (configured && configured.length > 0) return [...configured];
  const bridges = new Set([...sim.docker.bridges.map((b) => b.name), ...sim.docker.referencedBridges]);
  const names: string[] = [];
  for (const name of mentionsOf(sim.compiled.ruleset).inInterfaces) {
    if (name === 'lo' || bridges.has(name) || name.startsWith('br-') || name.startsWith('docker') || name.startsWith('veth')) continue;
    names.push(name);
  }
  return [...names.sort(), OTHER_INTERFACE];
}

/** An address that stands for "one of the host's addresses" when none was given. */
export function representativeLocalAddress(sim: RulesetSimulator): string {
  const family = sim.host.family;
  const given = sim.host.localAddresses.find((a) => !a.startsWith('127.') && a !== '::1/128' && !a.startsWith('127.0.0.0'));
  if (sim.host.localAddressesKnown && given) return given.split('/')[0]!;
  const { representativeMentioned } = mentionsOf(sim.compiled.ruleset);
  const candidates = REPRESENTATIVE_LOCAL_ADDRESSES[family];
  const bridgeSubnets = sim.docker.bridges.flatMap((b) => b.subnets.map((s) => `${s.address}/${s.prefixLength}`));
  const bridges = AddressSet.fromCidrs(family, bridgeSubnets);
  return candidates.find((c, k) => !bridges.containsText(c) && !representativeMentioned[k]) ?? candidates[0]!;
}

function describeBlock(classes: readonly ClassResult[]): string | undefined {
  const blocked = classes.filter((c) => !c.accepted);
  if (blocked.length === 0) return undefined;
  const reasons = [...new Set(blocked.map((c) => c.reason))];
  return reasons.slice(0, 3).join('; ') + (reasons.length > 3 ? '; …' : '');
}

interface Reachability {
  readonly reachable: ReachableFrom[];
  readonly conditional: ConditionalReach[];
  readonly blockedBy?: string;
  readonly partial?: string;
}

function reachableFrom(sim: RulesetSimulator, interfaces: readonly string[], base: Omit<Question, 'inInterface'>): Reachability {
  const reachable: ReachableFrom[] = [];
  const conditional: ConditionalReach[] = [];
  const allClasses: ClassResult[] = [];
  const partial = new Set<string>();
  const empty = AddressSet.empty(sim.host.family);
  for (const inInterface of interfaces) {
    const result = reachableSources(sim, { ...base, inInterface });
    const { classes } = result;
    if (result.partial !== undefined) partial.add(result.partial);
    allClasses.push(...classes);
    const accepted = classes.filter((c) => c.accepted).reduce((acc, c) => acc.union(c.sources), empty);
    if (!accepted.isEmpty()) reachable.push({ interface: inInterface, sources: accepted.toCidrs() });
    // Reached unless a condition holds first (a blocklist), then only if one does (an allow-list).
    for (const whenNoneMatch of [true, false]) {
      const maybe = classes.filter((c) => c.conditional && c.reachedByDefault === whenNoneMatch);
      if (maybe.length === 0) continue;
      conditional.push({
        interface: inInterface,
        sources: maybe.reduce((acc, c) => acc.union(c.sources), empty).toCidrs(),
        conditions: mergeConditions(maybe.map((c) => c.conditions)),
        whenNoneMatch,
      });
    }
  }
  return {
    reachable, conditional, blockedBy: describeBlock(allClasses.filter((c) => !c.conditional)),
    partial: partial.size > 0 ? [...partial].join('; ') : undefined,
  };
}

/** The fields of an entry that say who gets through. */
function reachFields(r: Reachability): Pick<ExposureEntry, 'reachableFrom' | 'conditionallyReachableFrom' | 'blockedBy' | 'partial'> {
  return {
    reachableFrom: r.reachable, conditionallyReachableFrom: r.conditional,
    ...(r.blockedBy !== undefined ? { blockedBy: r.blockedBy } : {}),
    ...(r.partial !== undefined ? { partial: r.partial } : {}),
  };
}

/** Worth an entry: someone gets through or may, or the answer is approximate (then "nobody" may be wrong). */
function reachesAnyone(r: Reachability): boolean {
  return r.reachable.length > 0 || r.conditional.length > 0 || r.partial !== undefined;
}

const PORT_PROTOCOLS: readonly L4Protocol[] = ['tcp', 'udp'];

export interface ExposureOptions {
  /**
   * Host ports to ask about even when no rule names them: something listens there (docker-proxy
   * serving an IPv4 publication on [::]), so "every port no rule names" is not answer enough.
   */
  readonly extraHostPorts?: readonly { readonly proto: string; readonly port: number }[];
}

export function computeExposure(sim: RulesetSimulator, configuredInterfaces?: readonly string[], options: ExposureOptions = {}): RulesetExposure {
  const family = sim.host.family;
  const interfaces = candidateInterfaces(sim, configuredInterfaces ?? (sim.host.externalInterfacesKnown ? sim.host.externalInterfaces : undefined));
  const localAddress = representativeLocalAddress(sim);
  const anyAddress = family === 'ipv4' ? '0.0.0.0' : '::';

  const published: ExposureEntry[] = [];
  for (const p of sim.docker.published) {
    if (!p.dnatRule) continue;
    const dst = p.hostAddress ?? localAddress;
    const reach = reachableFrom(sim, interfaces, {
      proto: p.proto as L4Protocol, dst, dport: p.hostPort,
      reached: (t) => t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host'),
    });
    published.push({
      proto: p.proto, hostAddress: p.hostAddress ?? anyAddress, hostPort: p.hostPort,
      container: { address: p.container.address, port: p.container.port }, bridge: p.bridge,
      ...reachFields(reach),
    });
  }

  const direct: ExposureEntry[] = [];
  const otherPort = unusedPort(sim);
  const containers = new Map<string, string>();
  for (const c of sim.docker.containers) containers.set(c.address, c.bridge);
  for (const p of sim.docker.published) if (!containers.has(p.container.address)) containers.set(p.container.address, p.bridge);
  for (const [address, bridge] of [...containers].sort()) {
    const ports = new Set<string>();
    for (const p of sim.docker.published) if (p.container.address === address) ports.add(`${p.proto}/${p.container.port}`);
    ports.add(`tcp/${otherPort}`);
    for (const key of [...ports].sort()) {
      const [proto, portText] = key.split('/') as [L4Protocol, string];
      const port = Number(portText);
      const reach = reachableFrom(sim, interfaces, {
        proto, dst: address, dport: port,
        reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container',
      });
      if (!reachesAnyone(reach)) continue;
      // No rule names the stand-in port, so it is never a published one.
      const other = proto === 'tcp' && port === otherPort;
      direct.push({ proto, hostAddress: address, hostPort: port, container: { address, port }, bridge, ...reachFields(reach), ...(other ? { otherPorts: true } : {}) });
    }
  }

  const host: ExposureEntry[] = [];
  const publishedPorts = new Set(sim.docker.published.map((p) => `${p.proto}/${p.hostPort}`));
  for (const proto of PORT_PROTOCOLS) {
    const extra = (options.extraHostPorts ?? []).filter((p) => p.proto === proto).map((p) => p.port);
    for (const port of new Set([...candidateHostPorts(sim, proto), ...extra, otherPort])) {
      if (publishedPorts.has(`${proto}/${port}`)) continue;
      const reach = reachableFrom(sim, interfaces, {
        proto, dst: localAddress, dport: port,
        reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'host',
      });
      if (!reachesAnyone(reach)) continue;
      host.push({
        proto, hostAddress: sim.host.localAddressesKnown ? localAddress : anyAddress, hostPort: port, ...reachFields(reach),
        ...(port === otherPort ? { otherPorts: true } : {}),
      });
    }
  }
  host.sort((a, b) => compareCodeUnits(a.proto, b.proto) || a.hostPort - b.hostPort);
  return { family, published, direct, host };
}

/** Ports INPUT-side rules mention (range starts), so each distinct port rule is asked about once. */
function candidateHostPorts(sim: RulesetSimulator, proto: L4Protocol): number[] {
  const ports = new Set<number>();
  const filter = sim.compiled.tables.get('filter');
  if (!filter) return [];
  for (const chain of filter.chains) {
    if (chain.name === 'FORWARD' || chain.name === 'OUTPUT') continue;
    for (const rule of chain.rules) {
      if (rule.protocol && rule.protocol.name !== proto) continue;
      for (const m of rule.matches) {
        if ((m.kind === 'tcp' || m.kind === 'udp') && m.kind === proto && m.dport && !m.dport.negated) for (const r of m.dport.ranges) ports.add(r.from);
        if (m.kind === 'multiport' && m.dports && !m.dports.negated) for (const r of m.dports.ranges) ports.add(r.from);
      }
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** A port no rule mentions: stands for "any other port". */
function unusedPort(sim: RulesetSimulator): number {
  return mentionsOf(sim.compiled.ruleset).unusedPort ?? UNUSED_PORT_CANDIDATES[0]!;
}
