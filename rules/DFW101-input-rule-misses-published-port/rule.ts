// DFW101 input-rule-misses-published-port: an INPUT rule meant to restrict a
// port Docker publishes. Docker DNATs the port in nat PREROUTING, so the routing
// decision forwards the packet to the container and filter INPUT never sees it.
//
// Two simulators answer: the real one, and a "what the administrator believes"
// one over the same ruleset without Docker's DNAT rules, where the connection is
// delivered to the host and INPUT decides. A source the second one drops in
// INPUT and the first one delivers to the container is the proof; the INPUT
// rule responsible is the one reported.

import type { Family, Rule, Span } from '../../grammar/ast.ts';
import { printRuleSpec } from '../../grammar/printer.ts';
import { defineRule, type LintSettings, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { DockerModel, PublishedPort } from '../../src/model/docker-types.ts';
import { reachableSources } from '../../src/sim/exposure.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import type { L4Protocol, Trace, TraceStep } from '../../src/sim/types.ts';
import { ensureDockerUser, iptablesCommand, spec } from '../DFW101-DFW107-lib/commands.ts';
import {
  chainSpan, decidingStep, externalInterfaces, hostAddress, isLoopback, newConnection, packetText, pathSummary, pickAddress,
  publishedText, stepLabel, stepRule, type ExternalInterface,
} from '../DFW101-DFW107-lib/packets.ts';
import {
  asRulesetSimulator, dnatPublished, isAdminRule, isDropOrReject, namesPort, reachableChains, whatIfSimulator,
} from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'dropped' | 'allowList' | 'policy';

interface Options {
  /** Also report the INPUT DROP policy itself for published ports no INPUT rule names. */
  readonly policy: boolean;
}

/** One INPUT rule (or the policy) and the published ports it fails to restrict, with the first proof. */
interface Miss {
  readonly kind: MessageId;
  readonly at: Span;
  readonly rule?: Rule;
  readonly ports: PublishedPort[];
  readonly trace: Trace;
  readonly packet: string;
  readonly iface: ExternalInterface;
  /** The INPUT step that would have dropped the packet had Docker not DNATed it. */
  readonly wouldDrop: TraceStep;
  /** allowList: the sources the ACCEPT admits. */
  readonly allowed?: string;
}

/** Whom an allow-list ACCEPT admits: `198.51.100.0/24`, `198.51.100.0/24 on eth1`, `any source on eth1`. */
function allowedText(rule: Rule): string {
  const parts: string[] = [];
  const s = rule.source;
  if (s) {
    const cidr = s.prefixLength === -1 ? `${s.address}/${s.mask}` : `${s.address}/${s.prefixLength}`;
    parts.push(s.negated ? `any source but ${cidr}` : cidr);
  }
  for (const m of rule.matches) {
    if (m.kind === 'iprange' && m.srcRange) parts.push(`${m.srcRange.negated ? 'outside ' : ''}${m.srcRange.from}-${m.srcRange.to}`);
  }
  const i = rule.inInterface;
  if (i) parts.push(`${parts.length === 0 ? 'any source ' : ''}${i.negated ? 'not on' : 'on'} ${i.name}${i.wildcard ? '+' : ''}`);
  return parts.length > 0 ? parts.join(' ') : 'the packets its matches select';
}

function portsText(ports: readonly PublishedPort[]): string {
  return [...new Set(ports.map((p) => `${p.proto}/${p.hostPort}`))].join(', ');
}

/** The INPUT-side rule on the dropped packet's path that names the port: the drop itself or the jump that led there. */
function blameDrop(view: RulesetView, believed: RulesetSimulator, trace: Trace, port: PublishedPort): Rule | undefined {
  for (let i = trace.steps.length - 1; i >= 0; i--) {
    const s = trace.steps[i]!;
    if (s.hook !== 'INPUT' || s.table !== 'filter' || s.matched === false) continue;
    if (!['drop', 'reject', 'jump', 'goto'].includes(s.action)) continue;
    const rule = stepRule(believed.compiled.ruleset, s);
    if (rule && isAdminRule(view.docker, rule) && namesPort(rule, port.proto, port.hostPort)) return rule;
  }
  return undefined;
}

/** The INPUT ACCEPT that let this packet in, when it is the administrator's and names the port. */
function allowRule(view: RulesetView, believed: RulesetSimulator, trace: Trace, port: PublishedPort): Rule | undefined {
  for (let i = trace.steps.length - 1; i >= 0; i--) {
    const s = trace.steps[i]!;
    if (s.hook !== 'INPUT' || s.table !== 'filter' || s.action !== 'accept') continue;
    const rule = stepRule(believed.compiled.ruleset, s);
    return rule && isAdminRule(view.docker, rule) && namesPort(rule, port.proto, port.hostPort) ? rule : undefined;
  }
  return undefined;
}

/** `-s X`/`-i Y` of a rule, as it would be written in DOCKER-USER. */
function sourceAndInterface(rule: Rule | undefined): string {
  if (!rule) return '';
  return printRuleSpec({ source: rule.source, inInterface: rule.inInterface, matches: [] });
}

function originalMatch(family: Family, port: PublishedPort, destination: Rule['destination']): string {
  const address = port.hostAddress ?? (destination && !destination.negated ? `${destination.address}/${destination.prefixLength}` : undefined);
  const orig = address ? ` --ctorigdst ${address.includes('/') ? address : `${address}/${family === 'ipv6' ? 128 : 32}`}` : '';
  return `-p ${port.proto} -m conntrack${orig} --ctorigdstport ${port.hostPort} --ctdir ORIGINAL`;
}

function fixFor(family: Family, docker: DockerModel, miss: Miss, allowRules: readonly Rule[]): string {
  const cmd = iptablesCommand(family);
  const lines = [...ensureDockerUser(family, docker)];
  for (const port of miss.ports) {
    if (miss.kind === 'dropped' && miss.rule) {
      const target = printRuleSpec({ matches: [], target: miss.rule.target });
      lines.push(`${cmd} -I DOCKER-USER ${spec(sourceAndInterface(miss.rule), originalMatch(family, port, miss.rule.destination), target)}`);
      continue;
    }
    // An allow-list: the DROP first, then each allowed source above it (every -I 1 lands on top).
    const match = originalMatch(family, port, miss.rule?.destination);
    lines.push(`${cmd} -I DOCKER-USER 1 ${spec(match, '-j DROP')}`);
    for (const allow of [...allowRules].reverse()) {
      if (!namesPort(allow, port.proto, port.hostPort)) continue;
      lines.push(`${cmd} -I DOCKER-USER 1 ${spec(sourceAndInterface(allow), match, '-j RETURN')}`);
    }
  }
  return lines.join('\n');
}

class Misses {
  private readonly byPlace = new Map<string, Miss>();

  add(miss: Omit<Miss, 'ports'>, port: PublishedPort): void {
    const key = `${miss.kind} ${miss.at.file}:${miss.at.line}:${miss.at.column}`;
    const known = this.byPlace.get(key);
    if (known) {
      if (!known.ports.includes(port)) known.ports.push(port);
      return;
    }
    this.byPlace.set(key, { ...miss, ports: [port] });
  }

  all(): Miss[] {
    return [...this.byPlace.values()];
  }
}

function checkView(view: RulesetView, settings: LintSettings, options: Options, misses: Misses, allowRules: Rule[]): void {
  const sim = asRulesetSimulator(view.simulator);
  if (!sim) return;
  const { ruleset, docker } = view;
  const family = ruleset.family;
  const inputChains = reachableChains(ruleset, 'filter', ['INPUT']);
  const inputRules = ruleset.tables.find((t) => t.name === 'filter')?.chains
    .filter((c) => inputChains.has(c.name))
    .flatMap((c) => c.rules)
    .filter((r) => isAdminRule(docker, r)) ?? [];
  const ports = dnatPublished(docker).filter((p) => !(p.hostAddress && isLoopback(family, p.hostAddress)));
  const dnatRules = new Set(ports.map((p) => p.dnatRule));
  let believed: RulesetSimulator | undefined;
  const interfaces = externalInterfaces(sim, settings);

  for (const port of ports) {
    const naming = inputRules.filter((r) => namesPort(r, port.proto, port.hostPort));
    if (naming.length === 0 && !options.policy) continue;
    // What the administrator believes: Docker's DNATs gone, the connection is the host's and INPUT decides.
    believed ??= whatIfSimulator(view, settings, (table, chain) => (table === 'nat' ? chain.rules.filter((r) => !dnatRules.has(r)) : undefined));
    const destinations = new Set<string>();
    if (port.hostAddress) destinations.add(port.hostAddress);
    else {
      destinations.add(hostAddress(sim));
      for (const r of naming) {
        if (r.destination && !r.destination.negated) {
          const address = pickAddress(family, AddressSet.fromMatch(family, r.destination));
          if (address) destinations.add(address);
        }
      }
    }
    for (const dst of destinations) {
      const allowLists = allowListsFor(view, believed, naming, port, dst, interfaces);
      for (const iface of interfaces) {
        const question = { proto: port.proto as L4Protocol, dst, dport: port.hostPort, inInterface: iface.name };
        const real = reachableSources(sim, { ...question, reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container' });
        const delivered = real.classes.filter((c) => c.accepted).reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
        if (delivered.isEmpty()) continue;
        const hoped = reachableSources(believed, { ...question, reached: (t) => t.verdict === 'accept' });
        for (const blocked of hoped.classes) {
          if (blocked.accepted) continue;
          const src = pickAddress(family, blocked.sources.intersect(delivered), [dst]);
          if (src === undefined) continue;
          const packet = newConnection(family, question.proto, src, dst, port.hostPort, iface.name);
          const trace = sim.trace(packet);
          const belief = believed.trace(packet);
          const wouldDrop = decidingStep(belief);
          if (trace.verdict !== 'accept' || trace.reaches.kind !== 'container') continue;
          if (!wouldDrop || wouldDrop.hook !== 'INPUT' || wouldDrop.table !== 'filter') continue;
          const base = { trace, packet: packetText(packet), iface, wouldDrop };
          const dropper = blameDrop(view, believed, belief, port);
          if (dropper) {
            misses.add({ ...base, kind: 'dropped', at: dropper.span, rule: dropper }, port);
            continue;
          }
          for (const rule of allowLists) {
            if (!allowRules.includes(rule)) allowRules.push(rule);
            misses.add({ ...base, kind: 'allowList', at: rule.span, rule, allowed: allowedText(rule) }, port);
          }
          if (allowLists.length === 0 && options.policy && wouldDrop.position === 0) {
            const at = chainSpan(ruleset, 'filter', 'INPUT');
            if (at) misses.add({ ...base, kind: 'policy', at }, port);
          }
        }
      }
    }
  }
}

/**
 * The INPUT ACCEPTs naming the port that really admit some connection to it in
 * the administrator's picture (one that matches the rule's own source and
 * interface), i.e. the allow-list whose other sources the policy drops.
 */
function allowListsFor(
  view: RulesetView, believed: RulesetSimulator, naming: readonly Rule[], port: PublishedPort, dst: string,
  interfaces: readonly ExternalInterface[],
): Rule[] {
  const family = view.ruleset.family;
  const found: Rule[] = [];
  for (const rule of naming) {
    if (rule.target?.kind !== 'verdict' || rule.target.name !== 'ACCEPT') continue;
    const i = rule.inInterface;
    const iface = i && !i.negated && !i.wildcard ? i.name : interfaces[0]?.name;
    const src = pickAddress(family, AddressSet.fromMatch(family, rule.source), [dst]);
    if (iface === undefined || src === undefined) continue;
    const trace = believed.trace(newConnection(family, port.proto as L4Protocol, src, dst, port.hostPort, iface));
    if (trace.verdict === 'accept' && allowRule(view, believed, trace, port) === rule) found.push(rule);
  }
  return found;
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW101',
    name: 'input-rule-misses-published-port',
    severity: 'error',
    summary: 'An INPUT rule restricts a port Docker publishes; the published traffic is DNATed and forwarded, so INPUT never sees it.',
    description:
      'Docker publishes a port with a DNAT rule in nat PREROUTING. The rewrite happens before the routing decision, so a '
      + 'connection to hostIP:hostPort is routed to the container and traverses filter FORWARD (DOCKER-USER, then Docker\'s '
      + 'chains), never filter INPUT. An INPUT rule that drops, rejects or allow-lists a published port therefore restricts '
      + 'nothing: the port stays open to everyone Docker\'s rules accept. This rule compares the real walk of a connection '
      + 'to the published port with the walk the administrator has in mind (Docker\'s DNAT rules removed) and reports the '
      + 'INPUT rule that would have dropped it.',
    tags: ['docker', 'security', 'bypass'],
    options: {
      type: 'object',
      properties: {
        policy: {
          type: 'boolean',
          description: 'Also report the INPUT DROP policy for published ports that no INPUT rule names (off by default: DFW106 reports open ports).',
        },
      },
      additionalProperties: false,
    },
    defaultOptions: { policy: false },
    messages: {
      dropped:
        'This INPUT rule {verb} {ports}, but Docker publishes {published}: connections to it are DNATed in nat PREROUTING and '
        + 'forwarded to the container, so they never traverse INPUT. {packet} on {interface}: {path}; without the DNAT it '
        + 'would have been {wouldVerb} by {wouldDrop}. Filter the published port in DOCKER-USER by its original destination '
        + '(-m conntrack --ctorigdstport).',
      allowList:
        'This INPUT rule admits {ports} only from {allowed}, but Docker publishes {published}: connections to it are DNATed '
        + 'in nat PREROUTING and forwarded to the container, so the allow-list never applies. {packet} on {interface} comes '
        + 'from outside the list and still gets in: {path}; without the DNAT it would have been {wouldVerb} by {wouldDrop}. '
        + 'Build the allow-list in DOCKER-USER with -m conntrack --ctorigdstport.',
      policy:
        'The INPUT policy DROP does not protect {published}: connections to it are DNATed in nat PREROUTING and forwarded to '
        + 'the container, so they never traverse INPUT. {packet} on {interface}: {path}. Restrict the published port in '
        + 'DOCKER-USER (-m conntrack --ctorigdstport).',
    },
  },
  check(context) {
    const options: Options = { policy: context.options.policy === true };
    for (const view of context.host.views) {
      const misses = new Misses();
      const allowRules: Rule[] = [];
      checkView(view, context.settings, options, misses, allowRules);
      for (const miss of misses.all()) {
        const first = miss.ports[0]!;
        context.report({
          at: miss.at,
          messageId: miss.kind,
          data: {
            verb: miss.rule && isDropOrReject(miss.rule) ? (miss.rule.target?.kind === 'REJECT' ? 'rejects' : 'drops') : 'filters',
            ports: portsText(miss.ports),
            published: miss.ports.map((p) => publishedText(view.ruleset.family, p)).join(', '),
            packet: miss.packet,
            interface: miss.iface.label,
            path: pathSummary(miss.trace),
            wouldVerb: miss.wouldDrop.action === 'reject' ? 'rejected' : 'dropped',
            wouldDrop: stepLabel(miss.wouldDrop),
            allowed: miss.allowed ?? '',
            hostPort: first.hostPort,
          },
          path: miss.trace.steps,
          fix: fixFor(view.ruleset.family, view.docker, miss, allowRules),
        });
      }
    }
  },
});
