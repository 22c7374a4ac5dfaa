// IPT205 redundant-rule: a rule whose removal changes nothing. Two provable
// cases: an exact duplicate of an earlier rule with a terminating target (no
// state-changing rule in between, no stateful match), and a rule whose packets
// would all reach a later rule with the same outcome, with every rule in
// between provably unable to match them. Rules IPT204 already reports as
// shadowed are left to it.

import { defineRule } from '../../src/engine/types.ts';
import { chainOrder, outcomeOf } from '../IPT2xx-lib/rule-order.ts';
import { deleteCommand, outcomeVerb, ruleLabel } from '../IPT2xx-lib/iptables.ts';

export default defineRule<'duplicate' | 'subsumed'>({
  meta: {
    id: 'IPT205',
    name: 'redundant-rule',
    severity: 'info',
    summary: 'A rule whose removal changes nothing: a duplicate, or a subset of a later rule with the same outcome.',
    description:
      'Reports a rule that can be deleted without changing what happens to any packet: an exact copy of an earlier '
      + 'rule with a terminating target (nothing in between rewrites the packet, marks or conntrack state, and the '
      + 'rule has no stateful match such as limit or recent), or a rule all of whose packets would otherwise reach a '
      + 'later rule with the same target, when every rule in between provably cannot match those packets (or does the '
      + 'same). Redundant rules make a ruleset longer to read and to evaluate, and hide the rule that really decides.',
    tags: ['maintainability', 'iptables'],
    messages: {
      duplicate:
        'Duplicate of {other} (line {line}): that copy comes first in {chain} and already {verb} every packet this one '
        + 'matches, and nothing in between changes those packets, so this copy never matches. Removing it changes nothing.',
      subsumed:
        'Redundant: every packet this rule matches would also reach {other} (rule {position} of {chain}, line {line}), '
        + 'which does the same ({outcome}), and no rule in between handles those packets differently. Removing it changes nothing.',
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
          for (const [index, firstIndex] of [...order.duplicateOf].sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const first = chain.rules[firstIndex]!;
            context.report({
              at: rule.span,
              messageId: 'duplicate',
              data: { other: `\`${ruleLabel(first)}\``, line: first.span.line, chain: chain.name, verb: outcomeVerb(first) },
              fix: deleteCommand(family, rule),
            });
          }
          for (const [index, laterIndex] of [...order.subsumedBy].sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const later = chain.rules[laterIndex]!;
            context.report({
              at: rule.span,
              messageId: 'subsumed',
              data: {
                other: `\`${ruleLabel(later)}\``, position: laterIndex + 1, chain: chain.name, line: later.span.line,
                outcome: `\`${later.target ? outcomeOf(later.target) : ''}\``,
              },
              fix: deleteCommand(family, rule),
            });
          }
        }
      }
    }
  },
});
