// IPT202 unused-chain: a user chain no packet can reach, because no rule jumps
// or goes to it (or only chains that are unused themselves do).
//
// Chains that tools create, often without a jump on purpose, are left out by
// default (option `ignoreChains`): Docker's (a DOCKER-USER that FORWARD does
// not jump to is DFW113's finding, with the Docker context), ufw's (its
// ufw-user-limit, ufw-user-logging-* … exist whether used or not), firewalld's,
// kube-proxy's canary and hint chains, CNI plugins'.

import { defineRule } from '../../src/engine/types.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { iptablesCommand } from '../IPT2xx-lib/iptables.ts';
import { ignoreChainsOption, ignoredChains, TOOL_CHAINS } from '../IPT2xx-lib/owners.ts';

/** Every chain those tools create, their administrator-facing ones included: the tool decides whether they are hooked in. */
const DEFAULT_IGNORE = TOOL_CHAINS.filter((p) => !p.startsWith('!'));

export default defineRule<'unreferenced' | 'onlyFromUnused'>({
  meta: {
    id: 'IPT202',
    name: 'unused-chain',
    severity: 'info',
    summary: 'A user chain that no rule jumps or goes to (or only unused chains do): its rules never see a packet.',
    description:
      'A user chain is only ever entered through a -j or -g from a rule of its table. A chain no rule targets, or that '
      + 'only chains unreachable themselves target, holds rules that never see a packet: a leftover from a removed '
      + 'service, or a chain someone forgot to hook in (a filter that is believed active but is not). Chains that '
      + 'Docker and kube-proxy create on purpose without a jump are ignored by default.',
    tags: ['maintainability', 'iptables'],
    messages: {
      unreferenced:
        'Chain {chain} ({rules}) is never used: no rule in the {table} table jumps or goes to it, so its rules never see a '
        + 'packet. Hook it in with a -j {chain} rule if it was meant to filter something, or delete it.',
      onlyFromUnused:
        'Chain {chain} ({rules}) is never used: only {referrers}, unused themselves, jump or go to it, so its rules never '
        + 'see a packet. Hook those chains in, or delete them and this one.',
    },
    ...ignoreChainsOption(DEFAULT_IGNORE),
  },
  check(context) {
    const ignored = ignoredChains(context.options, DEFAULT_IGNORE);
    for (const view of context.host.views) {
      const command = iptablesCommand(view.ruleset.family);
      for (const table of view.ruleset.tables) {
        const graph = chainGraph(table);
        for (const chain of table.chains) {
          if (chain.builtin || !chain.span || graph.isReached(chain.name)) continue;
          if (ignored(chain.name)) continue;
          const rules = chain.rules.length === 0 ? 'empty' : chain.rules.length === 1 ? '1 rule' : `${chain.rules.length} rules`;
          const referrers = [...new Set((graph.referencedBy.get(chain.name) ?? []).map((r) => r.chain))].filter((r) => r !== chain.name);
          const remove = chain.rules.length > 0
            ? `${command} -t ${table.name} -F ${chain.name} && ${command} -t ${table.name} -X ${chain.name}`
            : `${command} -t ${table.name} -X ${chain.name}`;
          if (referrers.length === 0) {
            context.report({ at: chain.span, messageId: 'unreferenced', data: { chain: chain.name, rules, table: table.name }, fix: remove });
          } else {
            // -X refuses a chain that is still referenced: empty the referring chains first.
            const flushReferrers = referrers.map((r) => `${command} -t ${table.name} -F ${r}`);
            context.report({
              at: chain.span,
              messageId: 'onlyFromUnused',
              data: { chain: chain.name, rules, referrers: referrers.join(', ') },
              fix: [...flushReferrers, `${command} -t ${table.name} -F ${chain.name}`, `${command} -t ${table.name} -X ${chain.name}`].join(' && '),
            });
          }
        }
      }
    }
  },
});
