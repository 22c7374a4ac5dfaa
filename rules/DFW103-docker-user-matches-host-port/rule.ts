// DFW103 docker-user-matches-host-port: a DOCKER-USER rule that names a
// published port's host port (`--dport 8443` for 8443→443) or a host address
// (`-d <host IP>`). DOCKER-USER runs in filter FORWARD, after nat PREROUTING has
// DNATed the packet: it carries the container's address and port by then, so
// such a rule never matches the traffic it was written for. The conntrack
// original-tuple matches (`--ctorigdstport`, `--ctorigdst`) see through the DNAT.
//
// Proof: the walk of a connection to the published port that the rule does not
// match, and the walk of the same connection with the rule rewritten to the
// original-tuple form, which does. The second walk also checks the fix.
//
// The converse (M2b): an ACCEPT/RETURN for port X, written for the host port X,
// also lets in connections to another container's host port Y that Docker maps
// to container port X. Reported only when it is unambiguous (see README).

import type { Family, Match, RawOption, Rule } from '../../grammar/ast.ts';
import { parse } from '../../grammar/index.ts';
import { printRuleSpec } from '../../grammar/printer.ts';
import { defineRule, type LintSettings, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { PublishedPort } from '../../src/model/docker-types.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import type { L4Protocol, Packet, Trace } from '../../src/sim/types.ts';
import { iptablesCommand } from '../DFW101-DFW107-lib/commands.ts';
import {
  dnatStep, externalInterfaces, newConnection, packetText, pathSummary, pickAddress, publishedDestination,
  publishedText, traceMatched,
} from '../DFW101-DFW107-lib/packets.ts';
import {
  asRulesetSimulator, dnatPublished, isAdminRule, namesPort, protocolAllows, reachableChains, usesOriginalTuple,
  whatIfSimulator,
} from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'hostPort' | 'hostAddress' | 'hostAddressAndPort' | 'opensOtherHostPort';

const PORT_OPTIONS = new Set(['--dport', '--destination-port']);
const MULTIPORT_OPTIONS = new Set(['--dports', '--destination-ports', '--ports']);

interface Problem {
  readonly byPort: boolean;
  readonly byAddress: boolean;
}

interface Finding {
  readonly kind: MessageId;
  readonly rule: Rule;
  readonly ports: PublishedPort[];
  readonly trace: Trace;
  readonly packet: string;
  readonly fix: string;
}

function addressText(a: NonNullable<Rule['destination']>): string {
  return a.prefixLength === -1 ? `${a.address}/${a.mask}` : `${a.address}/${a.prefixLength}`;
}

/** Whether the rule's `-d` names a host address of this published port (and not the container's). */
function namesHostAddress(view: RulesetView, sim: RulesetSimulator, rule: Rule, port: PublishedPort): boolean {
  const d = rule.destination;
  if (!d || d.negated) return false;
  const family = view.ruleset.family;
  const set = AddressSet.fromMatch(family, d);
  if (set.containsText(port.container.address)) return false;
  if (port.hostAddress) return set.containsText(port.hostAddress);
  // Published on every address: the rule names one of the host's own addresses (a single one, not a network).
  const full = family === 'ipv4' ? 32 : 128;
  if (d.prefixLength !== full || !sim.host.isLocal(d.address)) return false;
  if (view.docker.bridges.some((b) => b.subnets.some((s) => AddressSet.cidr(family, s.address, s.prefixLength).containsText(d.address)))) return false;
  return sim.host.localAddressesKnown || inbound(view, rule) || namedAsHostAddress(view, d.address);
}

/**
 * Without --local-addr every address counts as the host's, so `-d 8.8.8.8` in an egress
 * rule would look like a host address. Evidence that it is one: the rule filters traffic
 * arriving on an outside interface (not one of Docker's bridges) ...
 */
function inbound(view: RulesetView, rule: Rule): boolean {
  const i = rule.inInterface;
  if (!i || i.negated || rule.outInterface) return false;
  const bridges = new Set([...view.docker.bridges.map((b) => b.name), ...view.docker.referencedBridges]);
  return !bridges.has(i.name) && !(i.wildcard && ('docker'.startsWith(i.name) || 'br-'.startsWith(i.name)));
}

/** ... or the address is a destination of INPUT-side or NAT rules, where only the host's own addresses make sense. */
function namedAsHostAddress(view: RulesetView, address: string): boolean {
  for (const table of view.ruleset.tables) {
    if (table.name !== 'filter' && table.name !== 'nat') continue;
    for (const chain of table.chains) {
      if (table.name === 'filter' && chain.name !== 'INPUT') continue;
      if (table.name === 'nat' && chain.name === 'POSTROUTING') continue;
      for (const r of chain.rules) if (r.destination && !r.destination.negated && r.destination.address === address) return true;
    }
  }
  return false;
}

function problemWith(view: RulesetView, sim: RulesetSimulator, rule: Rule, port: PublishedPort): Problem | undefined {
  if (!protocolAllows(rule, port.proto)) return undefined;
  const byPort = port.hostPort !== port.container.port && namesPort(rule, port.proto, port.hostPort)
    && !namesPort(rule, port.proto, port.container.port);
  const byAddress = namesHostAddress(view, sim, rule, port);
  return byPort || byAddress ? { byPort, byAddress } : undefined;
}

function option(name: string, value: string, span: Rule['span']): RawOption {
  return { name, values: [value], negated: false, span };
}

/**
 * The rule rewritten to match the original destination: `-d A` becomes `--ctorigdst A`,
 * each destination-port list entry a `--ctorigdstport` (conntrack takes one port or range
 * per rule, so a multiport list becomes one rule per entry).
 */
function originalTupleSpecs(rule: Rule, problem: Problem): string[] {
  const span = rule.span;
  let portSpecs: (string | undefined)[] = [undefined];
  const matches: Match[] = [];
  for (const m of rule.matches) {
    const isPortMatch = m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp' || m.kind === 'multiport';
    if (!problem.byPort || !isPortMatch) {
      matches.push(m);
      continue;
    }
    const names = m.kind === 'multiport' ? MULTIPORT_OPTIONS : PORT_OPTIONS;
    const moved = m.options.filter((o) => names.has(o.name) && !o.negated);
    if (moved.length > 0) portSpecs = moved.flatMap((o) => o.values.join(',').split(',')).map((v) => v.replace('-', ':'));
    const kept = m.options.filter((o) => !moved.includes(o));
    if (kept.length > 0) matches.push({ ...m, options: kept });
  }
  return portSpecs.map((portSpec) => {
    const options: RawOption[] = [];
    if (problem.byAddress && rule.destination) options.push(option('--ctorigdst', addressText(rule.destination), span));
    if (portSpec !== undefined) options.push(option('--ctorigdstport', portSpec, span));
    options.push(option('--ctdir', 'ORIGINAL', span));
    const conntrack = { kind: 'conntrack', module: 'conntrack', options, span } as const satisfies Match;
    return printRuleSpec({
      ...rule,
      destination: problem.byAddress ? undefined : rule.destination,
      matches: [...matches, conntrack],
    });
  });
}

/** The rules a specification parses to, in the ruleset's family (undefined if it does not parse). */
function parseRules(view: RulesetView, chain: string, specs: readonly string[]): Rule[] | undefined {
  const text = [`*filter`, `:${chain} - [0:0]`, ...specs.map((s) => `-A ${chain} ${s}`), 'COMMIT', ''].join('\n');
  const parsed = parse(text, { file: view.ruleset.file, family: view.ruleset.family });
  if (parsed.errors.length > 0) return undefined;
  return parsed.rulesets[0]?.tables[0]?.chains.find((c) => c.name === chain)?.rules.map((r) => r);
}

/** Whether the rewritten rule(s), in the original's place, match the packet. */
function rewriteMatches(view: RulesetView, settings: LintSettings, rule: Rule, rewritten: readonly Rule[], packet: Packet): boolean {
  const sim = whatIfSimulator(view, settings, (table, chain) => {
    if (table !== 'filter' || !chain.rules.includes(rule)) return undefined;
    return chain.rules.flatMap((r) => (r === rule ? rewritten : [r]));
  });
  const trace = sim.trace(packet);
  return rewritten.some((r) => traceMatched(sim.compiled.ruleset, trace, r));
}

function position(view: RulesetView, rule: Rule): number {
  const chain = view.ruleset.tables.find((t) => t.name === 'filter')?.chains.find((c) => c.name === rule.chain);
  return (chain?.rules.indexOf(rule) ?? -1) + 1;
}

function replaceCommands(family: Family, view: RulesetView, rule: Rule, specs: readonly string[]): string {
  const cmd = iptablesCommand(family);
  const at = position(view, rule);
  return specs.map((s, k) => (k === 0 ? `${cmd} -R ${rule.chain} ${at} ${s}` : `${cmd} -I ${rule.chain} ${at + k} ${s}`)).join('\n');
}

function testPacket(view: RulesetView, sim: RulesetSimulator, settings: LintSettings, rule: Rule, port: PublishedPort, dst: string): Packet | undefined {
  const family = view.ruleset.family;
  const i = rule.inInterface;
  const iface = i && !i.negated && !i.wildcard ? i.name : externalInterfaces(sim, settings, true)[0]?.name;
  const src = pickAddress(family, AddressSet.fromMatch(family, rule.source), [dst]);
  if (iface === undefined || src === undefined) return undefined;
  return newConnection(family, port.proto as L4Protocol, src, dst, port.hostPort, iface);
}

function findMisses(view: RulesetView, sim: RulesetSimulator, settings: LintSettings, rules: readonly Rule[]): Finding[] {
  const family = view.ruleset.family;
  const findings = new Map<Rule, Finding>();
  for (const rule of rules) {
    if (usesOriginalTuple(rule)) continue;
    for (const port of dnatPublished(view.docker)) {
      const problem = problemWith(view, sim, rule, port);
      if (!problem) continue;
      const known = findings.get(rule);
      if (known) {
        if (!known.ports.includes(port)) known.ports.push(port);
        continue;
      }
      const d = rule.destination;
      const dst = problem.byAddress && !port.hostAddress && d ? d.address : publishedDestination(sim, port);
      const packet = testPacket(view, sim, settings, rule, port, dst);
      if (!packet) continue;
      const trace = sim.trace(packet);
      if (!dnatStep(trace) || traceMatched(view.ruleset, trace, rule)) continue;
      const specs = originalTupleSpecs(rule, problem);
      const rewritten = parseRules(view, rule.chain, specs);
      if (!rewritten || !rewriteMatches(view, settings, rule, rewritten, packet)) continue;
      const kind: MessageId = problem.byPort && problem.byAddress ? 'hostAddressAndPort' : problem.byPort ? 'hostPort' : 'hostAddress';
      findings.set(rule, { kind, rule, ports: [port], trace, packet: packetText(packet), fix: replaceCommands(family, view, rule, specs) });
    }
  }
  return [...findings.values()];
}

/**
 * M2b: an ACCEPT/RETURN naming port X (no original-tuple match) where X is the host
 * port of containers published as X:X, and another container is published as Y:X.
 * After DNAT the connection to Y has destination port X as well, so the rule lets
 * it in; reported when the walk without the rule does not let it in.
 */
function findOpenings(view: RulesetView, sim: RulesetSimulator, settings: LintSettings, rules: readonly Rule[]): Finding[] {
  const family = view.ruleset.family;
  const published = dnatPublished(view.docker);
  const findings: Finding[] = [];
  for (const rule of rules) {
    const t = rule.target;
    const lets = t?.kind === 'verdict' && (t.name === 'ACCEPT' || t.name === 'RETURN');
    if (!lets || usesOriginalTuple(rule) || rule.destination) continue;
    const ports: PublishedPort[] = [];
    let proof: { trace: Trace; packet: string } | undefined;
    for (const other of published) {
      const x = other.container.port;
      if (other.hostPort === x || !namesPort(rule, other.proto, x) || namesPort(rule, other.proto, other.hostPort)) continue;
      const intended = published.filter((p) => p.proto === other.proto && p.hostPort === x && p.container.port === x);
      if (intended.length === 0 || intended.some((p) => p.container.address === other.container.address)) continue;
      const packet = testPacket(view, sim, settings, rule, other, publishedDestination(sim, other));
      if (!packet) continue;
      const trace = sim.trace(packet);
      if (trace.verdict !== 'accept' || !traceMatched(view.ruleset, trace, rule)) continue;
      const without = whatIfSimulator(view, settings, (table, chain) => (table === 'filter' && chain.rules.includes(rule) ? chain.rules.filter((r) => r !== rule) : undefined));
      if (without.trace(packet).verdict === 'accept') continue;
      ports.push(other);
      proof ??= { trace, packet: packetText(packet) };
    }
    if (!proof || ports.length === 0) continue;
    const specs = originalTupleSpecs(rule, { byPort: true, byAddress: false });
    findings.push({ kind: 'opensOtherHostPort', rule, ports, ...proof, fix: replaceCommands(family, view, rule, specs) });
  }
  return findings;
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW103',
    name: 'docker-user-matches-host-port',
    severity: 'error',
    summary: "A DOCKER-USER rule matches a published port's host port or host address, which DNAT has already replaced.",
    description:
      'DOCKER-USER is jumped to from filter FORWARD. By then nat PREROUTING has DNATed a connection to a published port: '
      + 'the packet carries the container\'s address and port. A DOCKER-USER rule with `--dport <host port>` (for a port '
      + 'published as hostPort:containerPort with different numbers) or `-d <host address>` therefore never matches the '
      + 'traffic it was written for, and the port stays open. Match the original destination instead: '
      + '`-m conntrack --ctorigdstport <host port> --ctdir ORIGINAL`, `--ctorigdst <host address>`. The converse mistake is '
      + 'reported too when it is unambiguous: an ACCEPT for port X meant for host port X that also lets in another '
      + 'container published as Y:X.',
    tags: ['docker', 'security', 'nat'],
    messages: {
      hostPort:
        'This DOCKER-USER rule matches --dport {hostPorts}, the {portNoun} of {published}; DOCKER-USER sees packets after DNAT, '
        + 'when the destination port is already the container\'s ({containerPorts}), so the rule never matches that traffic: '
        + '{packet} passes it ({path}). Match the original port instead (-m conntrack --ctorigdstport <host port> --ctdir ORIGINAL).',
      hostAddress:
        'This DOCKER-USER rule matches -d {address}, a host address of {published}; DOCKER-USER sees packets after DNAT, when '
        + 'the destination is already the container ({containers}), so the rule never matches that traffic: {packet} passes it '
        + '({path}). Match the original destination with -m conntrack --ctorigdst {address} --ctdir ORIGINAL.',
      hostAddressAndPort:
        'This DOCKER-USER rule matches -d {address} and --dport {hostPorts}, the host address and {portNoun} of {published}; '
        + 'DOCKER-USER sees packets after DNAT, when they carry the container\'s address and port ({containers}), so the rule '
        + 'never matches that traffic: {packet} passes it ({path}). Match the original destination with -m conntrack '
        + '--ctorigdst/--ctorigdstport --ctdir ORIGINAL.',
      opensOtherHostPort:
        'This DOCKER-USER rule lets in destination port {containerPorts}, which is also where Docker sends {published} after '
        + 'DNAT: {packet} is let in by this rule ({path}) and would be dropped without it. If the rule is meant for the host '
        + 'port only, match the original port instead (-m conntrack --ctorigdstport {containerPorts} --ctdir ORIGINAL).',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const sim = asRulesetSimulator(view.simulator);
      if (!sim) continue;
      const family = view.ruleset.family;
      const chains = reachableChains(view.ruleset, 'filter', ['DOCKER-USER']);
      const rules = view.ruleset.tables.find((t) => t.name === 'filter')?.chains
        .filter((c) => chains.has(c.name)).flatMap((c) => c.rules).filter((r) => isAdminRule(view.docker, r)) ?? [];
      if (rules.length === 0) continue;
      for (const f of [...findMisses(view, sim, context.settings, rules), ...findOpenings(view, sim, context.settings, rules)]) {
        const unique = (values: readonly (string | number)[]) => [...new Set(values)].join(', ');
        context.report({
          at: f.rule.span,
          messageId: f.kind,
          data: {
            hostPorts: unique(f.ports.map((p) => p.hostPort)),
            portNoun: new Set(f.ports.map((p) => p.hostPort)).size > 1 ? 'host ports' : 'host port',
            containerPorts: unique(f.ports.map((p) => p.container.port)),
            address: f.rule.destination ? addressText(f.rule.destination) : '',
            containers: unique(f.ports.map((p) => p.container.address)),
            published: f.ports.map((p) => publishedText(family, p)).join(', '),
            packet: f.packet,
            path: pathSummary(f.trace),
          },
          path: f.trace.steps,
          fix: f.fix,
        });
      }
    }
  },
});
