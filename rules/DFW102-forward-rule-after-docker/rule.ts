// DFW102 forward-rule-after-docker: an administrator's DROP/REJECT in FORWARD (or
// in a chain FORWARD jumps to) that sits below Docker's rules, which have
// already accepted the container traffic it is meant to stop. Docker ≤ 27
// inserts its per-bridge ACCEPTs at the top of FORWARD every time a network is
// created; 28+ jumps to DOCKER-FORWARD, which decides every packet to a bridge.
//
// Two simulators answer: the real one, and one where the administrator's FORWARD
// rules below Docker's are moved up to just after the DOCKER-USER jump (where the
// administrator believes they act). A connection the second one drops at such a
// rule and the first one delivers through Docker's ACCEPT is the proof.

import type { Family, Rule } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { DockerModel, PublishedPort } from '../../src/model/docker-types.ts';
import { reachableSources } from '../../src/sim/exposure.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import { ensureDockerUser, iptablesCommand } from '../DFW101-DFW107-lib/commands.ts';
import {
  acceptingStep, decidingStep, externalInterfaces, newConnection, packetText, pathSummary, pickAddress,
  publishedDestination, publishedText, stepLabel, stepRule, traceMatched,
} from '../DFW101-DFW107-lib/packets.ts';
import {
  asRulesetSimulator, chainOf, isAdminRule, isDropOrReject, mayMatch, reachableChains, whatIfSimulator,
} from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'afterDocker';

interface Proof {
  readonly rule: Rule;
  /** The FORWARD rule to move: the rule itself, or the jump that leads to its chain. */
  readonly move: Rule;
  readonly trace: Trace;
  readonly packet: string;
  readonly target: string;
}

/** FORWARD with the administrator's rules below Docker's moved up to right after the DOCKER-USER jump. */
function believedForward(forward: readonly Rule[], docker: DockerModel): { rules: Rule[]; moved: Rule[] } | undefined {
  const jump = docker.dockerUser.jumpRule;
  const start = jump ? forward.indexOf(jump) + 1 : 0;
  const firstDocker = forward.findIndex((r, i) => i >= start && docker.dockerRules.has(r));
  if (firstDocker === -1) return undefined;
  const below = forward.slice(firstDocker);
  const moved = below.filter((r) => !docker.dockerRules.has(r));
  if (moved.length === 0) return undefined;
  return { rules: [...forward.slice(0, firstDocker), ...moved, ...below.filter((r) => docker.dockerRules.has(r))], moved };
}

/** Connections Docker's rules decide: to each published port, and straight to the container behind it. */
function questions(sim: RulesetSimulator, docker: DockerModel): { port: PublishedPort; dst: string; dport: number; target: string }[] {
  const family = sim.host.family;
  const out: { port: PublishedPort; dst: string; dport: number; target: string }[] = [];
  for (const port of docker.published) {
    const routed = port.via === 'routed';
    if (!routed) out.push({ port, dst: publishedDestination(sim, port), dport: port.hostPort, target: `published port ${publishedText(family, port)}` });
    out.push({ port, dst: port.container.address, dport: port.container.port, target: `container ${port.container.address} port ${port.container.port}, directly` });
  }
  return out;
}

function findProofs(view: RulesetView, sim: RulesetSimulator, settings: LintSettings): Proof[] {
  const { ruleset, docker } = view;
  const family = ruleset.family;
  const forward = chainOf(ruleset, 'filter', 'FORWARD');
  if (!forward) return [];
  const believed = believedForward(forward.rules, docker);
  if (!believed) return [];
  const userChains = reachableChains(ruleset, 'filter', ['DOCKER-USER']);
  // The rules that can decide in the administrator's picture: the moved DROP/REJECTs and those in chains the moved jumps reach.
  const movedChains = reachableChains(ruleset, 'filter', believed.moved.flatMap((r) => (r.target?.kind === 'chain' ? [r.target.chain] : [])));
  const candidates = new Set([
    ...believed.moved,
    ...(ruleset.tables.find((t) => t.name === 'filter')?.chains.filter((c) => movedChains.has(c.name)).flatMap((c) => c.rules) ?? []),
  ].filter((r) => isDropOrReject(r) && isAdminRule(docker, r) && !userChains.has(r.chain)));
  if (candidates.size === 0) return [];
  const sim2 = whatIfSimulator(view, settings, (table, chain) => (table === 'filter' && chain.name === 'FORWARD' ? believed.rules : undefined));
  const proofs = new Map<Rule, Proof>();
  // Rules in chains the moved jumps reach also depend on the jump's tests: not pre-checked.
  const direct = [...candidates].filter((r) => r.chain === 'FORWARD');
  const indirect = candidates.size > direct.length;
  for (const q of questions(sim, docker)) {
    const forwarded = { family, proto: q.port.proto, dst: q.port.container.address, dport: q.port.container.port, outInterface: q.port.bridge || undefined };
    if (!indirect && !direct.some((r) => mayMatch(r, forwarded))) continue;
    for (const iface of externalInterfaces(sim, settings, true)) {
      const question = { proto: q.port.proto as L4Protocol, dst: q.dst, dport: q.dport, inInterface: iface.name };
      const hoped = reachableSources(sim2, { ...question, reached: (t) => t.verdict === 'accept' });
      if (!hoped.classes.some((c) => !c.accepted && c.decidedBy !== undefined && candidates.has(c.decidedBy))) continue;
      const real = reachableSources(sim, { ...question, reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container' });
      const delivered = real.classes.filter((c) => c.accepted).reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
      for (const blocked of hoped.classes) {
        if (blocked.accepted || blocked.decidedBy === undefined || !candidates.has(blocked.decidedBy)) continue;
        const src = pickAddress(family, blocked.sources.intersect(delivered), [q.dst]);
        if (src === undefined) continue;
        const packet = newConnection(family, question.proto, src, q.dst, q.dport, iface.name);
        const belief = sim2.trace(packet);
        const step = decidingStep(belief);
        const rule = step ? stepRule(sim2.compiled.ruleset, step) : undefined;
        if (!step || !rule || step.hook !== 'FORWARD' || proofs.has(rule) || !candidates.has(rule)) continue;
        const trace = sim.trace(packet);
        if (trace.verdict !== 'accept' || trace.reaches.kind !== 'container' || traceMatched(ruleset, trace, rule)) continue;
        const accepted = acceptingStep(trace);
        const acceptRule = accepted ? stepRule(ruleset, accepted) : undefined;
        if (!acceptRule || !docker.dockerRules.has(acceptRule)) continue;
        const move = rule.chain === 'FORWARD' ? rule
          : belief.steps.map((s) => (s.chain === 'FORWARD' && (s.action === 'jump' || s.action === 'goto') ? stepRule(sim2.compiled.ruleset, s) : undefined))
            .find((r): r is Rule => r !== undefined && believed.moved.includes(r));
        if (!move) continue;
        proofs.set(rule, { rule, move, trace, packet: packetText(packet), target: q.target });
      }
    }
  }
  return [...proofs.values()];
}

function fixFor(family: Family, docker: DockerModel, move: Rule): string {
  const cmd = iptablesCommand(family);
  return [...ensureDockerUser(family, docker), `${cmd} -D FORWARD ${move.text}`, `${cmd} -I DOCKER-USER ${move.text}`].join('\n');
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW102',
    name: 'forward-rule-after-docker',
    severity: 'error',
    summary: "A DROP/REJECT in FORWARD below Docker's rules, which have already accepted the container traffic it targets.",
    description:
      'Docker puts its own rules at the top of FORWARD: up to 27.x it inserts per-bridge ACCEPTs there every time a network '
      + 'is created, from 28 on it jumps to DOCKER-FORWARD, which decides every packet headed for a Docker bridge. A DROP or '
      + 'REJECT the administrator adds to FORWARD (or to a chain FORWARD jumps to) below those rules is never consulted for '
      + 'container traffic. This rule moves the administrator\'s FORWARD rules up to just after the DOCKER-USER jump in a copy '
      + 'of the ruleset, and reports each one that would then drop a connection the real ruleset delivers to a container '
      + 'through Docker\'s ACCEPT. Such rules belong in DOCKER-USER, which FORWARD consults before Docker\'s rules.',
    tags: ['docker', 'security', 'bypass'],
    messages: {
      afterDocker:
        'This {chain} rule comes after Docker\'s rules, which already accept the container traffic it would {verb}: {packet} '
        + '({target}) never reaches it — {path}. Move it to DOCKER-USER, which FORWARD consults before Docker\'s rules.',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const sim = asRulesetSimulator(view.simulator);
      if (!sim) continue;
      for (const proof of findProofs(view, sim, context.settings)) {
        const accepted = acceptingStep(proof.trace);
        context.report({
          at: proof.rule.span,
          messageId: 'afterDocker',
          data: {
            chain: proof.rule.chain,
            verb: proof.rule.target?.kind === 'REJECT' ? 'reject' : 'drop',
            packet: proof.packet,
            target: proof.target,
            path: pathSummary(proof.trace),
            acceptedBy: accepted ? stepLabel(accepted) : '',
          },
          path: proof.trace.steps,
          fix: fixFor(view.ruleset.family, view.docker, proof.move),
        });
      }
    }
  },
});
