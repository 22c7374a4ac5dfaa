// DFW108 container-reachable-by-direct-routing: a neighbour that routes to a
// container's address (a LAN host with a static route, a VPN peer, anyone on
// the same link) opens a connection to a port the container does NOT publish.
// Found with the simulator's direct exposure (known containers) and its source
// classes (a stand-in address for bridges whose containers the dump does not
// name); the accepting rule or policy is the finding's location.

import type { Family, Rule, Span } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type Report, type RulesetView } from '../../src/engine/types.ts';
import { addressToBigint, AddressSet, bigintToAddress } from '../../src/model/addrset.ts';
import type { DockerBridge, DockerModel } from '../../src/model/docker-types.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import { candidateInterfaces, reachableSources, reachedUnlessBlocklisted } from '../../src/sim/exposure.ts';
import type { ReachableFrom, Trace, TraceStep } from '../../src/sim/types.ts';
import {
  acceptingStep, asRulesetSimulator, interfaceLabels, iptablesCommand, packetInterface, packetText, sampleSource, sourcesText, stepSpan,
} from '../DFW108-DFW114-lib/trace.ts';

type MessageId = 'reachable';

interface Candidate {
  readonly address: string;
  readonly bridge: string;
  /** The dump names no container on this bridge: the address stands for any of them. */
  readonly standIn: boolean;
}

/** A group of containers the ruleset treats alike, walked once through its first member. */
interface Target extends Candidate {
  readonly port: number;
  readonly reachableFrom: readonly ReachableFrom[];
  readonly members: readonly Candidate[];
}

interface Opening {
  readonly at: Span;
  readonly accepting: TraceStep;
  readonly trace: Trace;
  readonly packet: string;
  readonly targets: Target[];
  readonly interfaces: string[];
  sources: AddressSet;
}

/** A port no rule names as a port or range end: it stands for "any port the container does not publish". */
function unnamedPort(view: RulesetView): number {
  const named = new Set<number>();
  for (const table of view.ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        for (const m of rule.matches) {
          const lists = m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp' ? [m.dport] : m.kind === 'multiport' ? [m.dports, m.ports] : [];
          for (const list of lists) for (const r of list?.ranges ?? []) { named.add(r.from); named.add(r.to); }
        }
      }
    }
  }
  return [65001, 64999, 61234, 50505, 33333].find((p) => !named.has(p)) ?? 65001;
}

/** The first address Docker hands out on a subnet (the gateway takes the one before). */
function standInAddress(family: Family, bridge: DockerBridge): string | undefined {
  const subnet = bridge.subnets[0];
  const bits = family === 'ipv4' ? 32 : 128;
  if (!subnet || subnet.prefixLength > bits - 2) return undefined;
  const base = AddressSet.cidr(family, subnet.address, subnet.prefixLength).sample();
  return base === undefined ? undefined : bigintToAddress(family, base + 2n);
}

/**
 * Whether an address no container holds yet behaves like a future container's. Docker 28.2+ writes
 * a raw-table DROP per container endpoint of a nat-mode network, so there an empty bridge proves nothing;
 * earlier layouts and the unprotected gateway modes protect (or not) the whole bridge alike.
 */
function standInRepresentative(docker: DockerModel, bridge: DockerBridge): boolean {
  if (bridge.gatewayMode === 'nat-unprotected' || bridge.gatewayMode === 'routed') return true;
  return docker.layout === 'pre-28' || docker.layout === '28.0.0' || docker.layout === '28.0.1-28.1';
}

/** Whether a rule can match a new TCP packet to `port` at all (protocol and destination-port wise). */
function admitsPort(rule: Rule, port: number): boolean {
  if (rule.protocol && !rule.protocol.negated && rule.protocol.name !== 'tcp' && rule.protocol.number !== 0) return false;
  for (const m of rule.matches) {
    const lists = m.kind === 'tcp' ? [m.dport] : m.kind === 'multiport' ? [m.dports, m.ports] : [];
    for (const list of lists) {
      if (!list) continue;
      const inside = list.ranges.some((r) => r.from <= port && port <= r.to);
      if (inside === list.negated) return false;
    }
    if ((m.kind === 'udp' || m.kind === 'sctp' || m.kind === 'icmp' || m.kind === 'icmp6') && !rule.protocol?.negated) return false;
  }
  return true;
}

/**
 * Groups addresses that every rule treats alike for this probe: same bridge, same locality, and the
 * same membership in every destination-side address set of every rule that can match it. Members
 * of a group take the same walk, so one walk per group answers for all (Docker ≤27 writes no
 * per-container rule but the published-port ACCEPTs, which never match an unpublished port).
 */
function groupAlike(view: RulesetView, sim: RulesetSimulator, candidates: readonly Candidate[], port: number): Candidate[][] {
  const family = view.ruleset.family;
  const sets: AddressSet[] = [];
  for (const table of view.ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        if (!admitsPort(rule, port)) continue;
        if (rule.destination) sets.push(AddressSet.fromMatch(family, rule.destination));
        for (const m of rule.matches) {
          if (m.kind === 'iprange' && m.dstRange) sets.push(AddressSet.fromCidrs(family, []).union(rangeSet(family, m.dstRange.from, m.dstRange.to)));
          if (m.kind === 'conntrack') for (const a of [m.ctorigdst, m.ctreplsrc]) if (a) sets.push(AddressSet.fromMatch(family, a));
        }
      }
    }
  }
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = `${c.bridge} ${sim.host.isLocal(c.address)} ${sets.map((set) => (set.containsText(c.address) ? '1' : '0')).join('')}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()];
}

function rangeSet(family: Family, from: string, to: string): AddressSet {
  const a = addressToBigint(family, from);
  const b = addressToBigint(family, to);
  return a === undefined || b === undefined ? AddressSet.empty(family) : AddressSet.range(family, a, b);
}

function targetsOf(view: RulesetView, sim: RulesetSimulator, interfaces: readonly string[]): Target[] {
  const { docker } = view;
  const family = view.ruleset.family;
  const port = unnamedPort(view);
  const candidates = new Map<string, Candidate>();
  for (const c of docker.containers) if (c.bridge) candidates.set(c.address, { address: c.address, bridge: c.bridge, standIn: false });
  for (const p of docker.published) if (p.bridge && !candidates.has(p.container.address)) candidates.set(p.container.address, { address: p.container.address, bridge: p.bridge, standIn: false });
  const known = new Set([...candidates.values()].map((c) => c.bridge));
  for (const bridge of docker.bridges) {
    if (known.has(bridge.name) || !standInRepresentative(docker, bridge)) continue;
    const address = standInAddress(family, bridge);
    if (address) candidates.set(address, { address, bridge: bridge.name, standIn: true });
  }
  const targets: Target[] = [];
  for (const group of groupAlike(view, sim, [...candidates.values()], port)) {
    const representative = group[0]!;
    const reachableFrom: ReachableFrom[] = [];
    for (const inInterface of interfaces) {
      const { classes } = reachableSources(sim, {
        proto: 'tcp', dst: representative.address, dport: port, inInterface,
        reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container',
      });
      // A blocklist in front of the bridge leaves the containers reachable to everyone else.
      const accepted = classes.filter(reachedUnlessBlocklisted).reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
      if (!accepted.isEmpty()) reachableFrom.push({ interface: inInterface, sources: accepted.toCidrs() });
    }
    if (reachableFrom.length === 0) continue;
    targets.push({ ...representative, port, reachableFrom, members: group });
  }
  return targets;
}

function why(view: RulesetView, accepting: TraceStep, bridges: readonly string[]): string {
  const modes = view.docker.bridges.filter((b) => bridges.includes(b.name));
  if (accepting.position === 0 && accepting.chain === 'FORWARD') {
    return view.docker.layout === 'pre-28'
      ? 'Docker ≤27 accepts only published container ports and lets every other packet for a bridge fall through FORWARD to its policy, which is ACCEPT here (IP forwarding was already on when dockerd started, so Docker left the policy alone)'
      : 'the packet falls through FORWARD to its ACCEPT policy';
  }
  const unprotected = modes.filter((b) => b.gatewayMode === 'nat-unprotected').map((b) => b.name);
  if (unprotected.length > 0 && accepting.chain === 'DOCKER') {
    return `${unprotected.join(', ')} ${unprotected.length > 1 ? 'run' : 'runs'} with gateway mode nat-unprotected, whose \`! -i <bridge> -o <bridge> -j ACCEPT\` opens every port of every container on the bridge and has no raw-table protection`;
  }
  const routed = modes.filter((b) => b.gatewayMode === 'routed').map((b) => b.name);
  if (routed.length > 0) return `${routed.join(', ')} ${routed.length > 1 ? 'use' : 'uses'} gateway mode routed, and ${accepting.chain} line ${accepting.line} accepts the rest`;
  return `${accepting.chain} line ${accepting.line} accepts it before any rule drops unpublished ports`;
}

function fixFor(view: RulesetView, bridges: readonly string[]): string {
  const cmd = iptablesCommand(view.ruleset.family);
  const chain = view.docker.dockerUser.exists ? 'DOCKER-USER' : 'FORWARD';
  const lines: string[] = [];
  for (const name of bridges) {
    const bridge = view.docker.bridges.find((b) => b.name === name);
    if (bridge?.gatewayMode === 'routed') {
      // Routed networks publish by container address (no DNAT): drop new connections, then let the published ports through above.
      lines.push(`${cmd} -I ${chain} 1 ! -i ${name} -o ${name} -m conntrack --ctstate NEW -j DROP`);
      for (const p of view.docker.published.filter((x) => x.bridge === name)) {
        lines.push(`${cmd} -I ${chain} 1 ! -i ${name} -o ${name} -d ${p.container.address} -p ${p.proto} -m ${p.proto} --dport ${p.container.port} -j RETURN`);
      }
    } else {
      // Published connections were DNATed; a new connection to the bridge that was not is direct routing.
      lines.push(`${cmd} -I ${chain} 1 ! -i ${name} -o ${name} -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP`);
    }
  }
  return lines.join('\n');
}

function checkView(view: RulesetView, settings: LintSettings, report: (r: Report<MessageId>) => void): void {
  const { ruleset, docker } = view;
  const sim = asRulesetSimulator(view.simulator);
  // Without Docker's chains this dump cannot tell what Docker (nftables backend) drops: DFW114 says so.
  if (!sim || docker.dockerChains.size === 0) return;
  const family = ruleset.family;
  const interfaces = candidateInterfaces(sim, settings.externalInterfaces.length > 0 ? settings.externalInterfaces : undefined);
  // A source inside a Docker subnet arriving on another interface is spoofed: the answer goes to the bridge, not back.
  const bridgeSubnets = AddressSet.fromCidrs(family, docker.bridges.flatMap((b) => b.subnets.map((n) => `${n.address}/${n.prefixLength}`)));
  const openings = new Map<string, Opening>();
  for (const target of targetsOf(view, sim, interfaces)) {
    for (const from of target.reachableFrom) {
      const sources = AddressSet.fromCidrs(family, from.sources).subtract(bridgeSubnets);
      const src = sampleSource(family, sources);
      if (!src) continue;
      const trace = sim.trace({ family, proto: 'tcp', src, dst: target.address, sport: 40000, dport: target.port, inInterface: packetInterface(from.interface), state: 'NEW' });
      // unknown: only a blocklist the dump cannot decide may stop it; the trace walks the way it gets through.
      if ((trace.verdict !== 'accept' && trace.verdict !== 'unknown') || trace.reaches.kind !== 'container') continue;
      const accepting = acceptingStep(trace, 'FORWARD');
      const at = accepting && stepSpan(ruleset, accepting);
      if (!accepting || !at) continue;
      const key = `${at.file}:${at.line}`;
      const known = openings.get(key);
      if (known) {
        if (!known.targets.some((t) => t.address === target.address)) known.targets.push(target);
        if (!known.interfaces.includes(from.interface)) known.interfaces.push(from.interface);
        known.sources = known.sources.union(sources);
      } else {
        openings.set(key, {
          at, accepting, trace, targets: [target], interfaces: [from.interface], sources,
          packet: packetText(family, 'tcp', src, target.address, target.port),
        });
      }
    }
  }
  for (const opening of openings.values()) {
    const members = opening.targets.flatMap((t) => t.members);
    const bridges = [...new Set(members.map((m) => m.bridge))].sort();
    const containers = bridges.map((b) => {
      const here = members.filter((m) => m.bridge === b);
      if (here.some((m) => m.standIn)) return `any container on ${b}`;
      const shown = here.slice(0, 5).map((m) => m.address).join(', ');
      return `${shown}${here.length > 5 ? ` and ${here.length - 5} more` : ''} on ${b}`;
    });
    const first = opening.targets[0]!;
    report({
      at: opening.at,
      messageId: 'reachable',
      data: {
        packet: opening.packet,
        port: first.port,
        containers: containers.join('; '),
        interfaces: interfaceLabels(opening.interfaces, interfaces),
        sources: sourcesText(family, opening.sources, bridgeSubnets),
        why: why(view, opening.accepting, bridges),
      },
      path: opening.trace.steps,
      fix: fixFor(view, bridges),
    });
  }
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW108',
    name: 'container-reachable-by-direct-routing',
    severity: 'warning',
    summary: 'Container ports that are not published can be reached by routing to the container address.',
    description:
      'Publishing a port is supposed to be the only way in. But a host that forwards packets also forwards them to its bridge '
      + 'subnets: a neighbour with a route to 172.17.0.0/16 (or a VPN peer, or anyone on the same link setting the host as '
      + 'gateway) can connect to a container address directly. Docker ≤27 accepts only published container ports and leaves '
      + 'the rest to the FORWARD policy (ACCEPT when forwarding was enabled before dockerd started); gateway modes '
      + 'nat-unprotected and (≤27) routed, hosts with allow-direct-routing, and rules of other firewalls (firewalld\'s docker '
      + 'zone) open it too. Docker 28+ drops such packets in the raw table. The rule walks a new connection from each external '
      + 'interface to a port no rule names on each known container (or on a stand-in address of each bridge whose containers '
      + 'the dump does not show) and reports the rule or policy that accepts it.',
    tags: ['docker', 'security'],
    messages: {
      reachable:
        'Unpublished container ports are reachable by routing to the container address: {packet} (port {port} is not published) '
        + 'arriving on {interfaces} from {sources} is accepted here — {why}. Affected: {containers}.',
    },
  },
  check(context) {
    for (const view of context.host.views) checkView(view, context.settings, (r) => context.report(r));
  },
});
