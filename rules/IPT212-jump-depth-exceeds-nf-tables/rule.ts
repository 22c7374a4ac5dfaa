// IPT212 jump-depth-exceeds-nf-tables: jumps and gotos that nest 16 levels
// below a built-in chain. nf_tables checks every chain a base chain reaches
// and refuses the whole table once a chain sits NFT_JUMP_STACK_SIZE (16) jumps
// deep (EMLINK: iptables-nft-restore says "Too many links"); a goto counts like
// a jump, whether or not the rule's matches can ever be true. iptables-legacy
// has no such limit (10,000 levels load), so a file written on a legacy host
// breaks when it is restored on a current distribution, whose iptables is
// iptables-nft. Checked on Linux 6.x with iptables 1.8.9: 15 levels load, 16
// do not, in every table, and `iptables-restore --test` passes both.

import type { Rule } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { backendOf } from '../IPT2xx-lib/iptables.ts';

/** nf_tables' NFT_JUMP_STACK_SIZE: a chain this many jumps below a base chain makes the table fail to load. */
const NFT_MAX_DEPTH = 16;

export default defineRule<'tooDeep' | 'tooDeepForNft'>({
  meta: {
    id: 'IPT212',
    name: 'jump-depth-exceeds-nf-tables',
    severity: 'error',
    summary: 'Jumps or gotos nest 16 levels below a built-in chain: nf_tables refuses the table (EMLINK, "Too many links").',
    description:
      'nf_tables refuses a table in which a chain sits 16 jumps or gotos below a built-in chain (EMLINK; '
      + 'iptables-nft-restore reports "Too many links", `iptables-restore --test` passes). iptables-legacy loads such '
      + 'tables, so generated chain trees and files saved on legacy hosts fail to restore on current distributions. '
      + 'One finding per table, on the jump that reaches the 16th level, with the path.',
    tags: ['correctness', 'iptables'],
    messages: {
      tooDeep:
        'Jumps nest {levels} levels below {hook}, and this rule is the 16th ({path}): nf_tables allows 15, so the kernel '
        + 'refuses the whole {table} table (EMLINK) and iptables-nft-restore fails with "Too many links" — none of the '
        + 'table\'s rules would be loaded. Flatten the chains: move the rules of the deepest ones into their callers.',
      tooDeepForNft:
        'Jumps nest {levels} levels below {hook}, and this rule is the 16th ({path}): iptables-legacy loads that, but '
        + 'nf_tables allows 15, so restored with iptables-nft (the iptables of current distributions) the kernel refuses '
        + 'the whole {table} table (EMLINK, "Too many links"). Flatten the chains: move the rules of the deepest ones into their callers.',
    },
    options: {
      type: 'object',
      properties: {
        legacy: {
          type: 'boolean',
          description: 'Also report dumps that iptables-legacy wrote (they load there, and fail once restored with iptables-nft).',
        },
      },
      additionalProperties: false,
    },
    defaultOptions: { legacy: true },
  },
  check(context) {
    const reportLegacy = context.options.legacy !== false;
    for (const view of context.host.views) {
      const backend = backendOf(view.ruleset);
      if (backend === 'legacy' && !reportLegacy) continue;
      for (const table of view.ruleset.tables) {
        const graph = chainGraph(table);
        let deepest = 0;
        let first: Rule | undefined;
        for (const chain of table.chains) {
          const depth = graph.jumpDepth(chain.name)?.depth ?? -1;
          deepest = Math.max(deepest, depth);
          if (depth !== NFT_MAX_DEPTH - 1) continue;
          const jump = chain.rules.find((r) => r.target?.kind === 'chain' && graph.chains.has(r.target.chain));
          if (jump && (!first || jump.span.line < first.span.line)) first = jump;
        }
        if (!first || first.target?.kind !== 'chain') continue;
        const path = [first.target.chain, first.chain];
        for (let via = graph.jumpDepth(first.chain)?.via; via; via = graph.jumpDepth(via.chain)?.via) path.push(via.chain);
        path.reverse();
        context.report({
          at: first.span,
          messageId: backend === 'nf_tables' ? 'tooDeep' : 'tooDeepForNft',
          data: { levels: deepest, hook: path[0]!, path: path.join(' → '), table: table.name },
        });
      }
    }
  },
});
