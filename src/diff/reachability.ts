// Reachability of one ruleset, asked in terms both snapshots of a diff share.
//
// `exposure` picks its questions from one ruleset: the interfaces it names,
// the host ports its INPUT rules mention, a port no rule mentions. Two
// snapshots would then be asked different questions (a new `-i eth1` rule
// splits "any other interface" in two), so a diff plans the questions from
// both rulesets and asks each snapshot all of them. The answers are the same
// exact source sets `exposure` computes (`reachableSources`).

import type { Family, Rule, Ruleset } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import type { RulesetSimulator } from '../sim/index.ts';
import { candidateInterfaces, mergeConditions, OTHER_INTERFACE, OTHER_INTERFACE_NAME, reachableSources, representativeLocalAddress } from '../sim/exposure.ts';
import { UNUSED_PORT_CANDIDATES } from '../sim/mentions.ts';
import type { L4Protocol, Trace } from '../sim/types.ts';
import type { Condition, Target } from './types.ts';

export { OTHER_INTERFACE, OTHER_INTERFACE_NAME };

/** The questions both snapshots of one family are asked. */
export interface Plan {
  readonly family: Family;
  readonly interfaces: readonly string[];
  /** Stands for "one of the host's addresses" in both snapshots. */
  readonly localAddress: string;
  /** Whether the user named the host's addresses (else the representative is shown as 0.0.0.0 / ::). */
  readonly localAddressKnown: boolean;
  /** A port no rule of either snapshot mentions: stands for every such port. */
  readonly otherPort: number;
  /** Host ports INPUT-side rules of either snapshot mention, per protocol. */
  readonly hostPorts: ReadonlyMap<'tcp' | 'udp', readonly number[]>;
  /** Container ports to ask about per bridge (`tcp/80`), from the published ports of either snapshot. */
  readonly containerPorts: ReadonlyMap<string, readonly string[]>;
}

/** One packet destination whose reachability counts towards a target. */
interface Probe {
  readonly dst: string;
  readonly dport: number;
  readonly reached: (trace: Pick<Trace, 'verdict' | 'reaches'>) => boolean;
}

export interface SourceClass {
  readonly sources: AddressSet;
  readonly accepted: boolean;
  /** Accepted only on some outcomes of undecidable matches; `conditions` names them. */
  readonly uncertain: boolean;
  readonly conditions: readonly Condition[];
}

/** Per interface: who gets through, the part of them whose access is uncertain, and the classes (with the probe) that say so. */
export interface InterfaceReach {
  readonly accepted: AddressSet;
  readonly uncertain: AddressSet;
  readonly classes: readonly { readonly probe: Probe; readonly cls: SourceClass }[];
}

export interface TargetReach {
  readonly target: Target;
  readonly byInterface: ReadonlyMap<string, InterfaceReach>;
}

export function isRulesetSimulator(sim: unknown): sim is RulesetSimulator {
  return typeof sim === 'object' && sim !== null && 'compiled' in sim && 'docker' in sim && 'facts' in sim;
}

function anyAddress(family: Family): string {
  return family === 'ipv4' ? '0.0.0.0' : '::';
}

function* rulesOf(ruleset: Ruleset): Generator<Rule> {
  for (const table of ruleset.tables) for (const chain of table.chains) yield* chain.rules;
}

function mentionsDestination(sim: RulesetSimulator, address: string): boolean {
  const family = sim.host.family;
  for (const rule of rulesOf(sim.compiled.ruleset)) {
    if (rule.destination && !rule.destination.negated && AddressSet.fromMatch(family, rule.destination).containsText(address)) return true;
  }
  return sim.docker.bridges.some((b) => b.subnets.some((s) => AddressSet.cidr(family, s.address, s.prefixLength).containsText(address)));
}

/** Destination ports any rule matches (range ends included), so "any other port" avoids them all. */
function mentionedPorts(ruleset: Ruleset): Set<number> {
  const used = new Set<number>();
  for (const rule of rulesOf(ruleset)) {
    for (const m of rule.matches) {
      const ranges = (m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp') ? m.dport?.ranges
        : m.kind === 'multiport' ? [...(m.dports?.ranges ?? []), ...(m.ports?.ranges ?? [])] : undefined;
      for (const r of ranges ?? []) { used.add(r.from); used.add(r.to); }
    }
  }
  return used;
}

/** Ports the INPUT side of filter mentions (range starts), as `exposure` asks about them. */
function inputSidePorts(ruleset: Ruleset, proto: 'tcp' | 'udp'): number[] {
  const ports = new Set<number>();
  for (const table of ruleset.tables) {
    if (table.name !== 'filter') continue;
    for (const chain of table.chains) {
      if (chain.name === 'FORWARD' || chain.name === 'OUTPUT') continue;
      for (const rule of chain.rules) {
        if (rule.protocol && rule.protocol.name !== proto) continue;
        for (const m of rule.matches) {
          if (m.kind === proto && m.dport && !m.dport.negated) for (const r of m.dport.ranges) ports.add(r.from);
          if (m.kind === 'multiport' && m.dports && !m.dports.negated) for (const r of m.dports.ranges) ports.add(r.from);
        }
      }
    }
  }
  return [...ports];
}

function bridgeOf(sim: RulesetSimulator, address: string): string | undefined {
  return sim.docker.containers.find((c) => c.address === address)?.bridge
    ?? sim.docker.published.find((p) => p.container.address === address)?.bridge;
}

/** Containers a snapshot knows, with their bridge. */
function containersOf(sim: RulesetSimulator): Map<string, string> {
  const containers = new Map<string, string>();
  for (const c of sim.docker.containers) containers.set(c.address, c.bridge);
  for (const p of sim.docker.published) if (!containers.has(p.container.address)) containers.set(p.container.address, p.bridge);
  return containers;
}

/** The questions for one family, from whichever snapshots have it. */
export function planQuestions(family: Family, sims: readonly RulesetSimulator[], externalInterfaces: readonly string[]): Plan {
  const configured = externalInterfaces.length > 0 ? externalInterfaces : undefined;
  const interfaces = new Set<string>();
  for (const sim of sims) for (const name of candidateInterfaces(sim, configured)) interfaces.add(name);
  const ordered = [...interfaces].filter((i) => i !== OTHER_INTERFACE).sort();
  if (interfaces.has(OTHER_INTERFACE)) ordered.push(OTHER_INTERFACE);

  const representatives = sims.map((sim) => representativeLocalAddress(sim));
  const localAddressKnown = sims.some((sim) => sim.host.localAddressesKnown);
  const localAddress = representatives.find((a) => sims.every((sim) => localAddressKnown || !mentionsDestination(sim, a)))
    ?? representatives[0] ?? (family === 'ipv4' ? '203.0.113.10' : '2001:db8:ffff::10');

  const used = new Set<number>();
  for (const sim of sims) for (const p of mentionedPorts(sim.compiled.ruleset)) used.add(p);
  const otherPort = UNUSED_PORT_CANDIDATES.find((p) => !used.has(p)) ?? UNUSED_PORT_CANDIDATES[0]!;

  const hostPorts = new Map<'tcp' | 'udp', number[]>();
  for (const proto of ['tcp', 'udp'] as const) {
    const ports = new Set<number>();
    for (const sim of sims) for (const p of inputSidePorts(sim.compiled.ruleset, proto)) ports.add(p);
    hostPorts.set(proto, [...ports].sort((a, b) => a - b));
  }

  const containerPorts = new Map<string, Set<string>>();
  for (const sim of sims) {
    for (const [, bridge] of containersOf(sim)) if (!containerPorts.has(bridge)) containerPorts.set(bridge, new Set());
    for (const p of sim.docker.published) {
      const bridge = bridgeOf(sim, p.container.address) ?? p.bridge;
      const set = containerPorts.get(bridge) ?? new Set<string>();
      set.add(`${p.proto}/${p.container.port}`);
      containerPorts.set(bridge, set);
    }
  }
  return {
    family,
    interfaces: ordered,
    localAddress,
    localAddressKnown,
    otherPort,
    hostPorts,
    containerPorts: new Map([...containerPorts].map(([bridge, ports]) => [bridge, [...ports].sort()])),
  };
}

// A gate errs on the side of caution: a connection whose fate hangs on a match
// the dump cannot decide (`-m set`, `recent`, `limit` …) counts as reachable,
// so "dropped" → "undecidable" is a widening and its witness shows why.
type Reached = (t: Pick<Trace, 'verdict' | 'reaches'>) => boolean;
const toContainerOrHost: Reached = (t) => t.verdict === 'unknown' || (t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host'));
const toContainer: Reached = (t) => t.verdict === 'unknown' || (t.verdict === 'accept' && t.reaches.kind === 'container');
const toHost: Reached = (t) => t.verdict === 'unknown' || (t.verdict === 'accept' && t.reaches.kind === 'host');

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface PlannedTarget {
  readonly target: Target;
  readonly probes: readonly Probe[];
}

/** Every target one snapshot has (published ports, containers per bridge and port, host ports), with the probes that answer it. */
function targetsOf(sim: RulesetSimulator, plan: Plan): PlannedTarget[] {
  const family = plan.family;
  const targets = new Map<string, { target: Target; probes: Probe[] }>();
  const add = (target: Target, probe: Probe) => {
    const entry = targets.get(target.key);
    if (entry) entry.probes.push(probe);
    else targets.set(target.key, { target, probes: [probe] });
  };

  for (const p of sim.docker.published) {
    if (!p.dnatRule) continue;
    const shown = p.hostAddress ?? anyAddress(family);
    add({
      category: 'published', key: `published ${p.proto} ${endpoint(shown, p.hostPort)}`, proto: p.proto, address: shown, port: p.hostPort,
      anyOtherPort: false, container: { address: p.container.address, port: p.container.port }, bridge: p.bridge,
    }, { dst: p.hostAddress ?? plan.localAddress, dport: p.hostPort, reached: toContainerOrHost });
  }

  for (const [address, bridge] of [...containersOf(sim)].sort()) {
    const ports = [...(plan.containerPorts.get(bridge) ?? []), `tcp/${plan.otherPort}`];
    for (const key of ports) {
      const [proto, portText] = key.split('/') as [string, string];
      const port = Number(portText);
      const anyOtherPort = port === plan.otherPort;
      add({
        category: 'direct', key: `direct ${bridge} ${proto}/${anyOtherPort ? 'other' : port}`, proto, address, port, anyOtherPort, bridge,
      }, { dst: address, dport: port, reached: toContainer });
    }
  }

  const published = new Set(sim.docker.published.map((p) => `${p.proto}/${p.hostPort}`));
  const shownLocal = plan.localAddressKnown ? plan.localAddress : anyAddress(family);
  for (const proto of ['tcp', 'udp'] as const) {
    for (const port of [...(plan.hostPorts.get(proto) ?? []), plan.otherPort]) {
      if (published.has(`${proto}/${port}`)) continue;
      const anyOtherPort = port === plan.otherPort;
      add({ category: 'host', key: `host ${proto}/${anyOtherPort ? 'other' : port}`, proto, address: shownLocal, port, anyOtherPort },
        { dst: plan.localAddress, dport: port, reached: toHost });
    }
  }
  return [...targets.values()];
}

/** Asks one snapshot every question of the plan. Targets it does not have are simply absent. */
export function reachability(sim: RulesetSimulator, plan: Plan): Map<string, TargetReach> {
  const out = new Map<string, TargetReach>();
  for (const { target, probes } of targetsOf(sim, plan)) {
    const byInterface = new Map<string, InterfaceReach>();
    for (const inInterface of plan.interfaces) {
      let accepted = AddressSet.empty(plan.family);
      let certain = AddressSet.empty(plan.family);
      const classes: { probe: Probe; cls: SourceClass }[] = [];
      for (const probe of probes) {
        const result = reachableSources(sim, { proto: target.proto as L4Protocol, dst: probe.dst, dport: probe.dport, inInterface, reached: probe.reached });
        for (const cls of result.classes) {
          const uncertain = cls.accepted && cls.uncertain;
          classes.push({ probe, cls: { sources: cls.sources, accepted: cls.accepted, uncertain, conditions: uncertain ? cls.conditions : [] } });
          if (cls.accepted) accepted = accepted.union(cls.sources);
          if (cls.accepted && !uncertain) certain = certain.union(cls.sources);
        }
      }
      // Sources one probe lets in for certain are certain, whatever another probe's answer.
      byInterface.set(inInterface, { accepted, uncertain: accepted.subtract(certain), classes });
    }
    out.set(target.key, { target, byInterface });
  }
  return out;
}

/** The probe (destination) through which a class `wanted` holds some of `sources`, for the witness packet. */
export function probeFor(reach: InterfaceReach, sources: AddressSet, wanted: (cls: SourceClass) => boolean): { dst: string; dport: number; sample: AddressSet } | undefined {
  for (const { probe, cls } of reach.classes) {
    if (!wanted(cls)) continue;
    const inside = cls.sources.intersect(sources);
    if (!inside.isEmpty()) return { dst: probe.dst, dport: probe.dport, sample: inside };
  }
  return undefined;
}

/** The undecidable rules the uncertain classes holding any of `sources` depend on, by line. */
export function conditionsFor(reach: InterfaceReach, sources: AddressSet): Condition[] {
  return mergeConditions(reach.classes
    .filter(({ cls }) => cls.uncertain && !cls.sources.intersect(sources).isEmpty())
    .map(({ cls }) => cls.conditions));
}
