// DFW110 ufw-rule-misses-published-port: `ufw deny|limit|allow from …` writes
// its rule into ufw-user-input, which INPUT consults. A port Docker publishes
// is DNATed in nat PREROUTING and forwarded to the container, so the packet
// never passes INPUT and the ufw rule never applies. Proven by walking a new
// connection that the ufw rule means to stop.

import type { Family, Rule, Ruleset } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type Report, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { PublishedPort } from '../../src/model/docker-types.ts';
import { representativeLocalAddress } from '../../src/sim/exposure.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import { asRulesetSimulator, iptablesCommand, packetText, sampleSource } from '../DFW108-DFW114-lib/trace.ts';

type MessageId = 'deny' | 'limit' | 'allowFrom';

/** The chains ufw writes `ufw allow/deny/limit` rules to (ufw6-* in ip6tables). */
const USER_INPUT: Readonly<Record<Family, string>> = { ipv4: 'ufw-user-input', ipv6: 'ufw6-user-input' };
const REJECT_INPUT: Readonly<Record<Family, string>> = { ipv4: 'ufw-reject-input', ipv6: 'ufw6-reject-input' };

interface UfwIntent {
  readonly kind: MessageId;
  readonly rule: Rule;
  readonly protos: readonly L4Protocol[];
}

function portRanges(rule: Rule): { proto: L4Protocol; from: number; to: number }[] {
  const ranges: { proto: L4Protocol; from: number; to: number }[] = [];
  const proto = rule.protocol && !rule.protocol.negated ? rule.protocol.name : undefined;
  for (const m of rule.matches) {
    if ((m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp') && m.dport && !m.dport.negated) {
      for (const r of m.dport.ranges) ranges.push({ proto: m.kind, ...r });
    }
    if (m.kind === 'multiport' && (proto === 'tcp' || proto === 'udp' || proto === 'sctp')) {
      for (const list of [m.dports, m.ports]) if (list && !list.negated) for (const r of list.ranges) ranges.push({ proto, ...r });
    }
  }
  return ranges;
}

function chainOf(ruleset: Ruleset, name: string) {
  return ruleset.tables.find((t) => t.name === 'filter')?.chains.find((c) => c.name === name);
}

/** ufw's default incoming policy denies: INPUT policy DROP, or ufw-reject-input ends in an unconditional REJECT/DROP. */
function deniesByDefault(ruleset: Ruleset): boolean {
  if (chainOf(ruleset, 'INPUT')?.policy === 'DROP') return true;
  const reject = chainOf(ruleset, REJECT_INPUT[ruleset.family]);
  return reject?.rules.some((r) => !r.source && !r.destination && !r.protocol && r.matches.length === 0
    && (r.target?.kind === 'REJECT' || (r.target?.kind === 'verdict' && r.target.name === 'DROP'))) ?? false;
}

/** What the ufw rule means to do, if it restricts anything. */
function intentOf(rule: Rule, restrictiveDefault: boolean): UfwIntent | undefined {
  const target = rule.target;
  if (!target) return undefined;
  const protos = [...new Set(portRanges(rule).map((r) => r.proto))];
  if (protos.length === 0) return undefined;
  if ((target.kind === 'verdict' && target.name === 'DROP') || target.kind === 'REJECT') return { kind: 'deny', rule, protos };
  if (target.kind === 'chain' && /-user-limit$/.test(target.chain)) return { kind: 'limit', rule, protos };
  const accepts = (target.kind === 'verdict' && target.name === 'ACCEPT') || (target.kind === 'chain' && /-user-limit-accept$/.test(target.chain));
  const limitedSource = rule.source !== undefined && !(rule.source.prefixLength === 0 && !rule.source.negated);
  if (accepts && limitedSource && restrictiveDefault) return { kind: 'allowFrom', rule, protos };
  return undefined;
}

function covers(rule: Rule, port: PublishedPort): boolean {
  return portRanges(rule).some((r) => r.proto === port.proto && r.from <= port.hostPort && port.hostPort <= r.to);
}

/** A source the ufw rule means to stop: inside its -s for deny/limit, outside it for allow-from. */
function sourceFor(family: Family, intent: UfwIntent): string | undefined {
  const matched = AddressSet.fromMatch(family, intent.rule.source);
  return sampleSource(family, intent.kind === 'allowFrom' ? matched.complement() : matched);
}

function mapping(port: PublishedPort): string {
  const host = port.hostAddress ? `${port.hostAddress}:` : '';
  return `${host}${port.hostPort} → ${port.container.address}:${port.container.port}/${port.proto}`;
}

function evaluated(trace: Trace, rule: Rule): boolean {
  return trace.steps.some((s) => s.table === 'filter' && s.chain === rule.chain && s.line === rule.span.line);
}

function sourceText(rule: Rule): string {
  const s = rule.source;
  return s ? `${s.negated ? 'everything but ' : ''}${s.address}/${s.prefixLength}` : 'anywhere';
}

function fixFor(family: Family, intent: UfwIntent, ports: readonly PublishedPort[]): string {
  const cmd = iptablesCommand(family);
  const rule = intent.rule;
  const iface = rule.inInterface && !rule.inInterface.wildcard ? `${rule.inInterface.negated ? '! ' : ''}-i ${rule.inInterface.name} ` : '';
  const source = rule.source ? `${rule.source.negated ? '! ' : ''}-s ${rule.source.address}/${rule.source.prefixLength} ` : '';
  const notSource = rule.source ? `${rule.source.negated ? '' : '! '}-s ${rule.source.address}/${rule.source.prefixLength} ` : '';
  const lines: string[] = [];
  for (const port of ports) {
    // conntrack's original destination port is the published host port; DNAT state limits it to published traffic.
    const published = `-p ${port.proto} -m conntrack --ctstate DNAT --ctorigdstport ${port.hostPort} --ctdir ORIGINAL`;
    if (intent.kind === 'deny') {
      const verdict = rule.target?.kind === 'REJECT' ? `REJECT --reject-with ${rule.target.rejectWith}` : 'DROP';
      lines.push(`${cmd} -I DOCKER-USER ${iface}${source}${published} -j ${verdict}`);
    } else if (intent.kind === 'allowFrom') {
      lines.push(`${cmd} -I DOCKER-USER ${iface}${notSource}${published} -j DROP`);
    } else {
      // ufw limit: more than 6 new connections in 30 s from one source are refused. Inserted in reverse order.
      const recent = `-m recent --name DOCKER-USER-LIMIT-${port.hostPort} --rsource`;
      lines.push(`${cmd} -I DOCKER-USER ${iface}${source}${published} -m conntrack --ctstate NEW ${recent} --update --seconds 30 --hitcount 6 -j DROP`);
      lines.push(`${cmd} -I DOCKER-USER ${iface}${source}${published} -m conntrack --ctstate NEW ${recent} --set`);
    }
  }
  return lines.join('\n');
}

function checkView(view: RulesetView, settings: LintSettings, report: (r: Report<MessageId>) => void): void {
  const { ruleset, docker } = view;
  const sim = asRulesetSimulator(view.simulator);
  const userInput = chainOf(ruleset, USER_INPUT[ruleset.family]);
  if (!sim || !userInput || docker.published.length === 0) return;
  const family = ruleset.family;
  const restrictiveDefault = deniesByDefault(ruleset);
  const localAddress = representativeLocalAddress(sim);
  const defaultInterface = settings.externalInterfaces[0] ?? sim.host.externalInterfaces[0] ?? 'eth0';

  for (const rule of userInput.rules) {
    const intent = intentOf(rule, restrictiveDefault);
    if (!intent) continue;
    const missed: { port: PublishedPort; trace: Trace; packet: string }[] = [];
    for (const port of docker.published) {
      // Routed publications keep the container's address: the packet was never INPUT's to begin with.
      if (port.via === 'routed' || !port.dnatRule || !covers(rule, port)) continue;
      if (port.hostAddress && (port.hostAddress.startsWith('127.') || port.hostAddress === '::1')) continue;
      const dst = rule.destination && !rule.destination.negated && rule.destination.prefixLength === (family === 'ipv4' ? 32 : 128)
        ? rule.destination.address
        : port.hostAddress ?? localAddress;
      const src = sourceFor(family, intent);
      if (!src) continue;
      const inInterface = rule.inInterface && !rule.inInterface.negated && !rule.inInterface.wildcard ? rule.inInterface.name : defaultInterface;
      const proto = port.proto as L4Protocol;
      const trace = sim.trace({ family, proto, src, dst, sport: 40000, dport: port.hostPort, inInterface, state: 'NEW' });
      if (trace.verdict !== 'accept' || trace.reaches.kind !== 'container' || evaluated(trace, rule)) continue;
      missed.push({ port, trace, packet: packetText(family, proto, src, dst, port.hostPort) });
    }
    const first = missed[0];
    if (!first) continue;
    report({
      at: rule.span,
      messageId: intent.kind,
      data: {
        chain: rule.chain,
        ports: [...new Set(missed.map((m) => `${m.port.proto}/${m.port.hostPort}`))].join(', '),
        mappings: missed.map((m) => mapping(m.port)).join(', '),
        sources: sourceText(rule),
        packet: first.packet,
        reason: first.trace.reason,
      },
      path: first.trace.steps,
      fix: fixFor(family, intent, missed.map((m) => m.port)),
    });
  }
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW110',
    name: 'ufw-rule-misses-published-port',
    severity: 'error',
    summary: 'A ufw rule denies, rate-limits or source-limits a port Docker publishes: ufw never sees that traffic.',
    description:
      'ufw writes `ufw deny`, `ufw limit` and `ufw allow from …` rules into ufw-user-input, which only INPUT consults. Docker '
      + 'publishes a port by DNAT in nat PREROUTING: the connection is then routed to the container through FORWARD, where '
      + 'Docker\'s own ACCEPTs decide, and never passes INPUT. The ufw rule has no effect on it, whatever `ufw status` says. '
      + 'The rule walks a new connection that the ufw rule means to stop (a source it denies, or one outside the sources it '
      + 'allows) to the published port and reports the ufw rule when the packet reaches the container without passing it.',
    tags: ['docker', 'security', 'ufw'],
    messages: {
      deny:
        'ufw denies {ports} ({chain}), but Docker publishes it ({mappings}): new connections are DNATed in nat PREROUTING and '
        + 'forwarded to the container, so they never pass INPUT or ufw — {packet} is {reason}. Filter published ports in DOCKER-USER instead.',
      limit:
        'ufw rate-limits {ports} ({chain}), but Docker publishes it ({mappings}): new connections are DNATed in nat PREROUTING '
        + 'and forwarded to the container, so the limit never applies — {packet} is {reason}. Rate-limit in DOCKER-USER instead.',
      allowFrom:
        'ufw allows {ports} only from {sources} ({chain}), but Docker publishes it ({mappings}): new connections are DNATed in '
        + 'nat PREROUTING and forwarded to the container, so every other source gets in too — {packet} is {reason}. '
        + 'Restrict published ports in DOCKER-USER instead.',
    },
  },
  check(context) {
    for (const view of context.host.views) checkView(view, context.settings, (r) => context.report(r));
  },
});
