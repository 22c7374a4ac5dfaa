// IPT204 shadowed-rule: a rule that can never match, because one earlier rule
// of the same chain with a terminating target (ACCEPT, DROP, REJECT, RETURN, a
// goto, NAT, or a jump to a chain that never returns) matches every packet it
// could match. Only provable cases are reported: an earlier rule whose tests
// the model does not understand never counts as covering.
//
// Left to the Docker rules: rules Docker wrote itself (not the admin's to fix),
// and rules shadowed by a rule Docker wrote (DFW102 explains a FORWARD rule
// below Docker's ACCEPTs, DFW104 a DOCKER-USER rule below its RETURN).

import { defineRule } from '../../src/engine/types.ts';
import { chainOrder, outcomeOf } from '../IPT2xx-lib/rule-order.ts';
import { covers, packetSpace } from '../IPT2xx-lib/packet-space.ts';
import { chainGraph, isUnconditional } from '../IPT2xx-lib/chain-graph.ts';
import { deleteCommand, iptablesCommand, outcomeVerb, ruleLabel } from '../IPT2xx-lib/iptables.ts';

export default defineRule<'shadowed' | 'shadowedSameOutcome' | 'shadowedContradiction'>({
  meta: {
    id: 'IPT204',
    name: 'shadowed-rule',
    severity: 'warning',
    summary: 'A rule can never match: an earlier rule in the same chain already decides every packet it matches.',
    description:
      'iptables walks a chain top-down and stops at the first rule with a terminating target. When one earlier rule '
      + 'matches a superset of a later rule\'s packets and ends the walk (ACCEPT, DROP, REJECT, RETURN, -g, NAT, or a jump '
      + 'to a chain that never returns), the later rule is dead: its target never applies. The finding names the rule '
      + 'that shadows it. Protocol, addresses (prefixes, negation, iprange), interfaces (with + wildcards), fragments, '
      + 'ports (tcp/udp/sctp/dccp, multiport), ICMP types, TCP flags and conntrack states are compared; an earlier rule '
      + 'with any test outside that model (marks, ipsets, rate limits, opaque modules) is never taken as covering.',
    tags: ['correctness', 'iptables'],
    messages: {
      shadowed:
        'This rule never matches: {coverer} (rule {position} of {chain}, line {line}) comes first and {verb} every packet '
        + 'this rule matches, so this rule\'s {target} never applies. Move it above line {line} if it should take effect.',
      shadowedSameOutcome:
        'This rule never matches: {coverer} (rule {position} of {chain}, line {line}) comes first and already {verb} every '
        + 'packet this rule matches; this rule is dead and can be deleted.',
      shadowedContradiction:
        'This rule never matches: {coverer} (rule {position} of {chain}, line {line}) comes first, matches exactly the same '
        + 'packets and {verb} them, so this rule\'s {target} never applies. The two rules contradict each other: keep the one you mean.',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      for (const table of view.ruleset.tables) {
        for (const chain of table.chains) {
          const order = chainOrder(table, chain, family);
          for (const [index, coverIndex] of [...order.shadowedBy].sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const coverer = chain.rules[coverIndex]!;
            if (view.docker.dockerRules.has(rule) || view.docker.dockerRules.has(coverer)) continue;
            if (table.name === 'filter' && chain.name === 'DOCKER-USER' && isUnconditional(coverer)
              && coverer.target?.kind === 'verdict' && coverer.target.name === 'RETURN') continue;
            const same = rule.target !== undefined && coverer.target !== undefined && outcomeOf(rule.target) === outcomeOf(coverer.target);
            // Both decide, and match the same packets: moving one above the other would only swap which is dead.
            const equivalent = !same && chainGraph(table).terminates(rule) && covers(packetSpace(rule, family), packetSpace(coverer, family));
            const data = {
              coverer: `\`${ruleLabel(coverer)}\``,
              position: coverIndex + 1,
              chain: chain.name,
              line: coverer.span.line,
              verb: outcomeVerb(coverer),
              target: rule.target ? `\`${outcomeOf(rule.target)}\`` : 'counter',
            };
            const remove = deleteCommand(family, rule);
            const moveAbove = `${iptablesCommand(family)} -t ${table.name} -I ${chain.name} ${coverIndex + 1} ${rule.text}`;
            context.report({
              at: rule.span,
              messageId: same ? 'shadowedSameOutcome' : equivalent ? 'shadowedContradiction' : 'shadowed',
              data,
              fix: same || equivalent ? remove : `${remove} && ${moveAbove}`,
            });
          }
        }
      }
    }
  },
});
