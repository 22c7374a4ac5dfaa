// IPT205 redundant-rule: a rule whose removal changes nothing.
// - covered by an earlier rule that does the same (an exact duplicate, or a
//   subset): it never matches, and if it did it would do what the earlier one does;
// - an exact duplicate of an earlier rule whose tests the model does not follow
//   (no stateful match, nothing in between that changes the packet);
// - all its packets would reach a later rule with the same outcome, and every
//   rule in between provably cannot match them (or does the same).
// A covering rule that decides differently is IPT204's (shadowed-rule).
//
// Not reported: rules in chains other tools own (option `ignoreChains`), rules
// Docker wrote, and rules covered by a rule Docker wrote or by DOCKER-USER's
// unconditional RETURN (DFW102 and DFW104 explain those).

import type { Rule } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { chainOrder, outcomeOf } from '../IPT2xx-lib/rule-order.ts';
import { deleteCommand, outcomeVerb, ruleLabel } from '../IPT2xx-lib/iptables.ts';
import { coverIsDockers, ignoreChainsOption, ignoredChains } from '../IPT2xx-lib/owners.ts';

export default defineRule<'duplicate' | 'coveredByEarlier' | 'subsumed'>({
  meta: {
    id: 'IPT205',
    name: 'redundant-rule',
    severity: 'info',
    summary: 'A rule whose removal changes nothing: a duplicate, a subset of an earlier rule that does the same, or of a later one.',
    description:
      'Reports a rule that can be deleted without changing what happens to any packet: an exact copy of an earlier rule, '
      + 'or a rule all of whose packets an earlier rule with the same target already takes, or a rule all of whose '
      + 'packets would otherwise reach a later rule with the same target while every rule in between provably cannot '
      + 'match them (or does the same). Rules with stateful matches (limit, recent, set …) and rules with a packet-changing '
      + 'rule in between are left alone. Redundant rules make a ruleset longer to read and hide the rule that really decides.',
    tags: ['maintainability', 'iptables'],
    messages: {
      duplicate:
        'Duplicate of {other} (line {line}): that copy comes first in {chain} and already {verb} every packet this one '
        + 'matches, so this copy never matches. Removing it changes nothing.',
      coveredByEarlier:
        'Redundant: {other} (rule {position} of {chain}, line {line}) comes first and already {verb} every packet this rule '
        + 'matches, so this rule never matches. Removing it changes nothing.',
      subsumed:
        'Redundant: every packet this rule matches would also reach {other} (rule {position} of {chain}, line {line}), '
        + 'which does the same ({outcome}), and no rule in between handles those packets differently. Removing it changes nothing.',
    },
    ...ignoreChainsOption(),
  },
  check(context) {
    const ignored = ignoredChains(context.options);
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      const mine = (rule: Rule) => !view.docker.dockerRules.has(rule);
      for (const table of view.ruleset.tables) {
        for (const chain of table.chains) {
          if (ignored(chain.name)) continue;
          const order = chainOrder(table, chain, family);
          const earlier: [number, number][] = [...order.duplicateOf];
          for (const [index, coverIndex] of order.shadowedBy) {
            const rule = chain.rules[index]!;
            const coverer = chain.rules[coverIndex]!;
            if (coverIsDockers(view.docker.dockerRules, table, chain, coverer)) continue;
            if (rule.target && coverer.target && outcomeOf(rule.target) === outcomeOf(coverer.target)) earlier.push([index, coverIndex]);
          }
          for (const [index, firstIndex] of earlier.sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const first = chain.rules[firstIndex]!;
            if (!mine(rule)) continue;
            const duplicate = rule.text === first.text;
            context.report({
              at: rule.span,
              messageId: duplicate ? 'duplicate' : 'coveredByEarlier',
              data: { other: `\`${ruleLabel(first)}\``, position: firstIndex + 1, line: first.span.line, chain: chain.name, verb: outcomeVerb(first) },
              fix: deleteCommand(family, rule),
            });
          }
          for (const [index, laterIndex] of [...order.subsumedBy].sort((a, b) => a[0] - b[0])) {
            const rule = chain.rules[index]!;
            const later = chain.rules[laterIndex]!;
            if (!mine(rule)) continue;
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
