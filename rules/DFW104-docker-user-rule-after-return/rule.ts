// DFW104 docker-user-rule-after-return: rules below an unconditional `-j RETURN`
// in DOCKER-USER. Docker ≤ 28.2.1 appends that RETURN when it creates the chain
// (and whenever the chain has no RETURN at all), so `iptables -A DOCKER-USER …`
// run after dockerd started lands below it, where no packet ever arrives.
// Each dead rule is reported on its own line: each is a separate mistake with its
// own fingerprint and its own suppression, and deleting one does not revive another.

import type { Rule } from '../../grammar/ast.ts';
import { defineRule, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import { iptablesCommand } from '../DFW101-DFW107-lib/commands.ts';
import {
  externalInterfaces, newConnection, packetText, pickAddress, publishedDestination, stepRule,
} from '../DFW101-DFW107-lib/packets.ts';
import { asRulesetSimulator, chainOf, destinationPortRanges, isUnconditional } from '../DFW101-DFW107-lib/ruleset.ts';
import type { LintSettings } from '../../src/engine/types.ts';

type MessageId = 'afterReturn';

function isReturn(rule: Rule): boolean {
  return rule.target?.kind === 'verdict' && rule.target.name === 'RETURN';
}

/**
 * A new connection to a published port that the dead rule is about (its source,
 * interface and port when it names them), to show the RETURN taking it first.
 */
function proof(view: RulesetView, settings: LintSettings, dead: Rule, returnRule: Rule): { trace: Trace; packet: string } | undefined {
  const sim = asRulesetSimulator(view.simulator);
  if (!sim) return undefined;
  const family = view.ruleset.family;
  const ports = destinationPortRanges(dead) ?? [];
  const origPorts = dead.matches.flatMap((m) => (m.kind === 'conntrack' && m.ctorigdstport && !m.ctorigdstport.negated ? m.ctorigdstport.ranges : []));
  const inRanges = (port: number, ranges: readonly { from: number; to: number }[]) => ranges.some((r) => r.from <= port && port <= r.to);
  const published = view.docker.published.filter((p) => p.dnatRule);
  const port = published.find((p) => inRanges(p.container.port, ports) || inRanges(p.hostPort, origPorts)) ?? published[0];
  if (!port) return undefined;
  const iface = dead.inInterface && !dead.inInterface.negated && !dead.inInterface.wildcard
    ? dead.inInterface.name
    : externalInterfaces(sim, settings)[0]?.name;
  if (iface === undefined) return undefined;
  const dst = publishedDestination(sim, port);
  const src = pickAddress(family, AddressSet.fromMatch(family, dead.source), [dst]);
  if (src === undefined) return undefined;
  const packet = newConnection(family, port.proto as L4Protocol, src, dst, port.hostPort, iface);
  const trace = sim.trace(packet);
  const returned = trace.steps.some((s) => s.action === 'return' && stepRule(view.ruleset, s) === returnRule);
  return returned ? { trace, packet: packetText(packet) } : undefined;
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW104',
    name: 'docker-user-rule-after-return',
    severity: 'error',
    summary: "A DOCKER-USER rule below the chain's unconditional -j RETURN: no packet ever reaches it.",
    description:
      'Docker up to 28.2.1 appends `-j RETURN` to DOCKER-USER when it creates the chain (and again whenever the chain holds no '
      + 'RETURN). Rules added afterwards with `iptables -A DOCKER-USER` land below that RETURN: every packet leaves the chain '
      + 'before reaching them, so they never filter anything and the traffic they were meant to stop flows on to Docker\'s '
      + 'ACCEPTs. Every rule after the first unconditional RETURN is reported. Insert rules with `-I DOCKER-USER` instead, or '
      + 'delete the RETURN (the chain then falls through to Docker\'s chains, as it does on 28.2.2 and later).',
    tags: ['docker', 'security', 'dead-rule'],
    messages: {
      afterReturn:
        'This rule is never evaluated: DOCKER-USER line {returnLine} (`{returnRule}`) returns every packet to FORWARD before it{proof}. '
        + 'It was probably added with `iptables -A DOCKER-USER` after dockerd started; insert it with -I, or delete the RETURN.',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const chain = chainOf(view.ruleset, 'filter', 'DOCKER-USER');
      if (!chain) continue;
      const index = chain.rules.findIndex((r) => isReturn(r) && isUnconditional(r));
      if (index === -1) continue;
      const returnRule = chain.rules[index]!;
      const cmd = iptablesCommand(view.ruleset.family);
      for (const dead of chain.rules.slice(index + 1)) {
        const shown = proof(view, context.settings, dead, returnRule);
        context.report({
          at: dead.span,
          messageId: 'afterReturn',
          data: {
            returnLine: returnRule.span.line,
            returnRule: `-A DOCKER-USER ${returnRule.text}`,
            proof: shown ? ` (${shown.packet} leaves DOCKER-USER at line ${returnRule.span.line}: ${shown.trace.reason})` : '',
          },
          ...(shown ? { path: shown.trace.steps } : {}),
          fix: `${cmd} -D DOCKER-USER ${returnRule.text}`,
        });
      }
    }
  },
});
