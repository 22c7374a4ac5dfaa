// IPT209 deprecated-state-match: `-m state --state` where `-m conntrack
// --ctstate` is the maintained spelling of the same test. Rules in chains
// other tools own (Docker ≤24 writes `-m state` in DOCKER-INGRESS) and rules
// Docker wrote are not reported: it is theirs to change.

import type { Match } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { ignoreChainsOption, ignoredChains } from '../IPT2xx-lib/owners.ts';
import { printableMatch, replaceRule, specWith } from '../IPT2xx-lib/rewrite.ts';

export default defineRule<'stateMatch'>({
  meta: {
    id: 'IPT209',
    name: 'deprecated-state-match',
    severity: 'info',
    summary: '-m state --state: use -m conntrack --ctstate, the maintained match for the same test.',
    description:
      'The state match is the old subset of conntrack: -m state --state X tests exactly what -m conntrack --ctstate X '
      + 'tests. netfilter documents state as obsolete, iptables-nft translates it to the conntrack expression anyway, and '
      + 'mixing both spellings in one ruleset makes rules that do the same look different (so duplicates and shadowing '
      + 'are harder to see). The fix replaces the rule with the conntrack spelling.',
    tags: ['style', 'iptables'],
    messages: {
      stateMatch:
        '-m state {state} is the obsolete spelling of -m conntrack {ctstate}: the same test, by the match netfilter '
        + 'maintains. Replace the rule with the conntrack form.',
    },
    ...ignoreChainsOption(),
  },
  check(context) {
    const ignored = ignoredChains(context.options);
    for (const view of context.host.views) {
      for (const table of view.ruleset.tables) {
        for (const chain of table.chains) {
          if (ignored(chain.name)) continue;
          for (const rule of chain.rules) {
            const state = rule.matches.find((m): m is Extract<Match, { kind: 'state' }> => m.kind === 'state');
            if (!state?.state || view.docker.dockerRules.has(rule)) continue;
            const matches = rule.matches.map((m) => (m === state
              ? printableMatch('conntrack', m.options.map((o) => (o.name === '--state' ? { ...o, name: '--ctstate' } : o)), rule)
              : m));
            context.report({
              at: rule.span,
              messageId: 'stateMatch',
              data: {
                state: `${state.state.negated ? '! ' : ''}--state ${state.state.states.join(',')}`,
                ctstate: `${state.state.negated ? '! ' : ''}--ctstate ${state.state.states.join(',')}`,
              },
              fix: replaceRule(view.ruleset.family, chain, rule, specWith(rule, { matches })),
            });
          }
        }
      }
    }
  },
});
