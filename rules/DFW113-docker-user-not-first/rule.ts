// DFW113 docker-user-not-first: a new connection to a published port is
// accepted in FORWARD without ever visiting DOCKER-USER, so the admin's
// DOCKER-USER policy does not apply to it. Proven by walking the packet.

import type { Family, Rule, Ruleset, Span } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type Report, type RulesetView } from '../../src/engine/types.ts';
import type { PublishedPort } from '../../src/model/docker-types.ts';
import { candidateInterfaces, reachableSources, representativeLocalAddress } from '../../src/sim/exposure.ts';
import type { L4Protocol, Trace, TraceStep } from '../../src/sim/types.ts';
import {
  acceptingStep, asRulesetSimulator, chainSpan, interfaceLabels, iptablesCommand, packetInterface, packetText, sampleSource, stepRule, stepSpan,
} from '../DFW108-DFW114-lib/trace.ts';

type MessageId = 'bypassed' | 'unreachable';

interface Bypass {
  readonly at: Span;
  readonly via: TraceStep;
  readonly trace: Trace;
  readonly packet: string;
  readonly ports: Set<string>;
  readonly interfaces: string[];
}

/** FORWARD's rules that jump (or go) to DOCKER-USER. */
function jumpsToDockerUser(ruleset: Ruleset): Rule[] {
  const forward = ruleset.tables.find((t) => t.name === 'filter')?.chains.find((c) => c.name === 'FORWARD');
  return forward?.rules.filter((r) => r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER') ?? [];
}

/** Any rule of the filter table that jumps to DOCKER-USER (from FORWARD or a chain it reaches). */
function anyJumpToDockerUser(ruleset: Ruleset): boolean {
  const filter = ruleset.tables.find((t) => t.name === 'filter');
  return filter?.chains.some((c) => c.rules.some((r) => r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER')) ?? false;
}

/** Whether the walk entered DOCKER-USER (an empty DOCKER-USER leaves only the jump step behind). */
function visitsDockerUser(ruleset: Ruleset, trace: Trace): boolean {
  return trace.steps.some((s) => {
    if (s.table !== 'filter') return false;
    if (s.chain === 'DOCKER-USER') return true;
    if (s.action !== 'jump' && s.action !== 'goto') return false;
    const target = stepRule(ruleset, s)?.target;
    return target?.kind === 'chain' && target.chain === 'DOCKER-USER';
  });
}

/** The step in FORWARD itself through which the packet was accepted (the rule above the DOCKER-USER jump). */
function forwardStep(trace: Trace, accepting: TraceStep): TraceStep {
  for (let i = trace.steps.length - 1; i >= 0; i--) {
    const s = trace.steps[i]!;
    if (s.hook === 'FORWARD' && s.table === 'filter' && s.chain === 'FORWARD' && s.action !== 'continue') return s;
  }
  return accepting;
}

function describeStep(step: TraceStep): string {
  return step.position === 0 ? `the ${step.chain} policy ACCEPT` : `${step.chain} line ${step.line}`;
}

function probe(port: PublishedPort, localAddress: string): { dst: string; dport: number } | undefined {
  if (port.via === 'routed') return { dst: port.container.address, dport: port.container.port };
  if (port.hostAddress && (port.hostAddress.startsWith('127.') || port.hostAddress === '::1')) return undefined;
  return { dst: port.hostAddress ?? localAddress, dport: port.hostPort };
}

function fixFor(family: Family, jumps: readonly Rule[]): string {
  const cmd = iptablesCommand(family);
  return [...jumps.map((r) => `${cmd} -D FORWARD ${r.text}`), `${cmd} -I FORWARD 1 -j DOCKER-USER`].join('\n');
}

function checkView(view: RulesetView, settings: LintSettings, report: (r: Report<MessageId>) => void): void {
  const { ruleset, docker } = view;
  const sim = asRulesetSimulator(view.simulator);
  // No DOCKER-USER, nothing to bypass (Docker 20.10 wrote none for ip6tables); no Docker chains is DFW114's case.
  if (!sim || docker.dockerChains.size === 0 || !docker.dockerUser.exists) return;
  // FORWARD's first rule an unconditional jump: every forwarded packet enters DOCKER-USER (mangle
  // FORWARD runs before filter, but its ACCEPT ends only mangle's chain). Nothing to walk.
  if (docker.dockerUser.firstInForward) return;
  const family = ruleset.family;
  const jumps = jumpsToDockerUser(ruleset);
  const interfaces = candidateInterfaces(sim, settings.externalInterfaces.length > 0 ? settings.externalInterfaces : undefined);
  const localAddress = representativeLocalAddress(sim);
  const bypasses = new Map<string, Bypass>();

  for (const port of docker.published) {
    const target = probe(port, localAddress);
    if (!target) continue;
    const proto = port.proto as L4Protocol;
    for (const inInterface of interfaces) {
      const { classes } = reachableSources(sim, {
        proto, dst: target.dst, dport: target.dport, inInterface,
        reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container',
      });
      for (const cls of classes) {
        if (!cls.accepted) continue;
        const src = sampleSource(family, cls.sources);
        if (!src) continue;
        const trace = sim.trace({ family, proto, src, dst: target.dst, sport: 40000, dport: target.dport, inInterface: packetInterface(inInterface), state: 'NEW' });
        if (trace.verdict !== 'accept' || trace.reaches.kind !== 'container') continue;
        if (visitsDockerUser(ruleset, trace)) continue;
        const accepting = acceptingStep(trace, 'FORWARD');
        if (!accepting) continue;
        const via = forwardStep(trace, accepting);
        const at = stepSpan(ruleset, via);
        if (!at) continue;
        const key = `${at.file}:${at.line}`;
        const portText = `${port.proto}/${port.hostPort}`;
        const known = bypasses.get(key);
        if (known) {
          known.ports.add(portText);
          if (!known.interfaces.includes(inInterface)) known.interfaces.push(inInterface);
        } else {
          bypasses.set(key, {
            at, via, trace, ports: new Set([portText]), interfaces: [inInterface],
            packet: packetText(family, proto, src, target.dst, target.dport),
          });
        }
      }
    }
  }

  for (const bypass of bypasses.values()) {
    const accepting = acceptingStep(bypass.trace, 'FORWARD')!;
    const jump = jumps[0];
    report({
      at: bypass.at,
      messageId: 'bypassed',
      data: {
        packet: bypass.packet,
        interfaces: interfaceLabels(bypass.interfaces, interfaces),
        acceptedBy: describeStep(accepting),
        via: bypass.via === accepting ? '' : ` (entered from FORWARD line ${bypass.via.line})`,
        jump: jump ? `the DOCKER-USER jump on line ${jump.span.line}` : 'any jump to DOCKER-USER (FORWARD has none)',
        ports: [...bypass.ports].join(', '),
      },
      path: bypass.trace.steps,
      fix: fixFor(family, jumps),
    });
  }

  // Without a published port there is no packet to prove it with, but a DOCKER-USER nothing jumps to is never consulted.
  if (docker.published.length === 0 && !anyJumpToDockerUser(ruleset)) {
    const at = chainSpan(ruleset, 'filter', 'DOCKER-USER');
    if (at) report({ at, messageId: 'unreachable', data: {}, fix: fixFor(family, []) });
  }
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW113',
    name: 'docker-user-not-first',
    severity: 'error',
    summary: 'FORWARD accepts traffic to published ports before it reaches DOCKER-USER, so DOCKER-USER can be bypassed.',
    description:
      'DOCKER-USER is where an administrator filters container traffic; Docker puts `-A FORWARD -j DOCKER-USER` at the top of '
      + 'FORWARD when it starts (and, up to 27.x, after every network change) so that it runs before Docker\'s own ACCEPTs. '
      + 'When another tool inserts a rule above it later (a VPN daemon, a firewall script, a firewall reload), or the jump is '
      + 'missing or conditional, packets to published ports can be accepted without DOCKER-USER ever seeing them. The rule '
      + 'walks a new connection to each published port from each external interface and reports the FORWARD rule through '
      + 'which one was accepted without visiting DOCKER-USER.',
    tags: ['docker', 'security'],
    messages: {
      bypassed:
        'DOCKER-USER is bypassed: {packet} arriving on {interfaces} is accepted by {acceptedBy}{via} before {jump}, so no '
        + 'DOCKER-USER rule ever sees it (published ports affected: {ports}). Docker puts the DOCKER-USER jump first in FORWARD '
        + 'only when it starts; a rule inserted above it later takes precedence.',
      unreachable:
        'DOCKER-USER exists but nothing jumps to it: FORWARD never consults it, so any rule added to it has no effect on container traffic.',
    },
  },
  check(context) {
    for (const view of context.host.views) checkView(view, context.settings, (r) => context.report(r));
  },
});
