// IPT204 shadowed-rule: a rule that can never match, because one earlier rule
// of the same chain with a terminating target (ACCEPT, DROP, REJECT, RETURN, a
// goto, NAT, or a jump to a chain that never returns) matches every packet it
// could match and does something else with it. Only provable cases are
// reported: an earlier rule whose tests the model does not understand never
// counts as covering.
//
// A rule covered by an earlier one that does the same is harmless dead weight:
// IPT205 (redundant-rule) reports it.
//
// Left to others: rules in chains other tools own (option `ignoreChains`), rules
// Docker wrote, and rules shadowed by a rule Docker wrote (DFW102 explains a
// FORWARD rule below Docker's ACCEPTs, DFW104 a DOCKER-USER rule below its RETURN).

import { defineRule } from '../../src/engine/types.ts';
import { chainOrder, outcomeOf } from '../IPT2xx-lib/rule-order.ts';
import { covers, packetSpace } from '../IPT2xx-lib/packet-space.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { deleteCommand, iptablesCommand, outcomeVerb, ruleLabel } from '../IPT2xx-lib/iptables.ts';
import { coverIsDockers, ignoreChainsOption, ignoredChains } from '../IPT2xx-lib/owners.ts';

export default defineRule<'shadowed' | 'shadowedContradiction'>({
  meta: {
    id: 'IPT204',
    name: 'shadowed-rule',
    severity: 'warning',
    summary: 'A rule can never match: an earlier rule in the same chain takes all its packets and decides them differently.',
    description:
      'iptables walks a chain top-down and stops at the first rule with a terminating target. When one earlier rule '
      + 'matches a superset of a later rule\'s packets and ends the walk (ACCEPT, DROP, REJECT, RETURN, -g, NAT, or a jump '
      + 'to a chain that never returns) with a different outcome, the later rule is dead: what it was written to do never '
      + 'happens. The finding names the rule that shadows it. Protocol, addresses (prefixes, negation, iprange), '
      + 'interfaces (with + wildcards), fragments, ports (tcp/udp/sctp/dccp, multiport), ICMP types, TCP flags and '
      + 'conntrack states are compared; an earlier rule with any test outside that model (marks, ipsets, rate limits, '
      + 'opaque modules) is never taken as covering.',
    tags: ['correctness', 'iptables'],
    messages: {
      shadowed:
        'This rule never matches: {coverer} (rule {position} of {chain}, line {line}) comes first and {verb} every packet '
        + 'this rule matches, so this rule\'s {target} never applies. Move it above line {line} if it should take effect.',
      shadowedContradiction:
        'This rule never matches: {coverer} (rule {position} of {chain}, line {line}) comes first, matches exactly the same '
        + 'packets and {verb} them, so this rule\'s {target} never applies. The two rules contradict each other: keep the one you mean.',
    },
    ...ignoreChainsOption(),
  },
  check(context) {
    const ignored = ignoredChains(context.options);
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      for (const table of view.ruleset.tables) {
        for (const chain of table.chains) {
          if (ignored(chain.name)) continue;
          const order = chainOrder(table, chain, family);
          for (const [index, coverIndex] of [...order.shadowedBy].sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const coverer = chain.rules[coverIndex]!;
            // The same outcome: removable, not a conflict (IPT205).
            if (rule.target && coverer.target && outcomeOf(rule.target) === outcomeOf(coverer.target)) continue;
            if (view.docker.dockerRules.has(rule) || coverIsDockers(view.docker.dockerRules, table, chain, coverer)) continue;
            // Both decide, and match the same packets: moving one above the other would only swap which is dead.
            const equivalent = chainGraph(table).terminates(rule) && covers(packetSpace(rule, family), packetSpace(coverer, family));
            const remove = deleteCommand(family, rule);
            const moveAbove = `${iptablesCommand(family)} -t ${table.name} -I ${chain.name} ${coverIndex + 1} ${rule.text}`;
            context.report({
              at: rule.span,
              messageId: equivalent ? 'shadowedContradiction' : 'shadowed',
              data: {
                coverer: `\`${ruleLabel(coverer)}\``,
                position: coverIndex + 1,
                chain: chain.name,
                line: coverer.span.line,
                verb: outcomeVerb(coverer),
                target: rule.target ? `\`${outcomeOf(rule.target)}\`` : 'counter',
              },
              fix: equivalent ? remove : `${remove} && ${moveAbove}`,
            });
          }
        }
      }
    }
  },
});
