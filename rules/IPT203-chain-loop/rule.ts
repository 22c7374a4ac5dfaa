// IPT203 chain-loop: jumps and gotos that lead in a circle. The kernel checks
// every chain a built-in chain can reach and refuses a table with a loop
// there (ELOOP), so iptables-restore fails and none of the table loads.
// A loop no built-in chain reaches loads (legacy and nf_tables alike, checked
// on Linux 6.x) but is dead weight that breaks the table the moment a rule
// jumps into it. One finding per loop, on the jump that closes it.

import { defineRule } from '../../src/engine/types.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { deleteCommand } from '../IPT2xx-lib/iptables.ts';

export default defineRule<'loop' | 'unreachableLoop'>({
  meta: {
    id: 'IPT203',
    name: 'chain-loop',
    severity: 'error',
    summary: 'Jumps or gotos between user chains form a loop: the kernel refuses the table (ELOOP).',
    description:
      'A chain may not be reachable from itself through -j or -g. When a built-in chain reaches such a loop, the kernel '
      + 'rejects the whole table (ELOOP; iptables-nft-restore reports "Too many links", iptables-legacy-restore "line N '
      + 'failed"), so a boot-time restore leaves the host with no rules from that table at all. The finding is on the '
      + 'jump that closes the loop and shows the path.',
    tags: ['correctness', 'iptables'],
    messages: {
      loop:
        'Jump loop {path}: this rule closes it, and {hook} reaches it, so the kernel refuses the whole {table} table '
        + '(ELOOP) and iptables-restore fails: none of the table\'s rules would be loaded. Remove this jump (or the one you did not mean).',
      unreachableLoop:
        'Jump loop {path}: this rule closes it. No built-in chain reaches it yet, so the {table} table still loads, but the '
        + 'first rule that jumps into any of these chains makes the kernel refuse the table (ELOOP). Remove this jump.',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      for (const table of view.ruleset.tables) {
        const graph = chainGraph(table);
        for (const cycle of graph.cycles()) {
          const path = [...cycle.chains, cycle.chains[0]!].join(' → ');
          const hooks = new Set(cycle.component.flatMap((c) => [...graph.hooksReaching(c)]));
          const hook = [...hooks][0];
          context.report({
            at: cycle.closingRule.span,
            messageId: hook ? 'loop' : 'unreachableLoop',
            data: { path, table: table.name, hook: hook ?? '' },
            fix: deleteCommand(family, cycle.closingRule),
          });
        }
      }
    }
  },
});
