// IPT201 undefined-chain-target: a jump (-j) or goto (-g) to a chain the table
// does not have, or to a built-in chain.
//
// The parser applies iptables-restore's rules and refuses both, as the kernel
// does, so a ruleset parsed from text never holds one. What the rule guards is
// the AST invariant for rulesets built another way: assembled by a plugin,
// merged from several dumps, or edited by a tool (a chain deleted or renamed
// without its jumps). The rule then also names the table where a chain of that
// name does exist: chains belong to one table.

import { BUILTIN_CHAINS } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { deleteCommand, iptablesCommand } from '../IPT2xx-lib/iptables.ts';

export default defineRule<'missingChain' | 'missingChainElsewhere' | 'builtinChain'>({
  meta: {
    id: 'IPT201',
    name: 'undefined-chain-target',
    severity: 'error',
    summary: 'A rule jumps (-j) or goes (-g) to a chain that does not exist in its table, or to a built-in chain.',
    description:
      'Chains belong to one table, and a jump or goto may only target a user chain of the same table. iptables-restore '
      + 'refuses a table with a jump to an undefined chain ("Couldn\'t load target") or to a built-in chain, so the whole '
      + 'table fails to load. dockfw-lint\'s parser refuses such text as well; this rule checks rulesets assembled by '
      + 'plugins, merged from several dumps or edited by tools.',
    tags: ['correctness', 'iptables'],
    messages: {
      missingChain:
        '{flag} {target} targets a chain that does not exist in the {table} table: iptables-restore refuses the whole '
        + 'table ("Couldn\'t load target `{target}\'"), so none of its rules would be loaded.',
      missingChainElsewhere:
        '{flag} {target} targets a chain that does not exist in the {table} table (a chain of that name exists in the '
        + '{elsewhere} table, but chains belong to one table): iptables-restore refuses the whole {table} table.',
      builtinChain:
        '{flag} {target} targets the built-in chain {target}: a rule can only jump to a user chain, and iptables-restore '
        + 'refuses the whole {table} table.',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      for (const table of view.ruleset.tables) {
        const graph = chainGraph(table);
        // Only the targets that are not user chains of the table, then their rules in file order.
        const bad = [...graph.referencedBy].filter(([name]) => !graph.chains.has(name) || BUILTIN_CHAINS[table.name].includes(name));
        for (const rule of bad.flatMap(([, rules]) => rules).sort((a, b) => a.span.line - b.span.line)) {
          const t = rule.target;
          if (t?.kind !== 'chain') continue;
          const flag = t.goto ? '-g' : '-j';
          if (BUILTIN_CHAINS[table.name].includes(t.chain)) {
            context.report({ at: rule.span, messageId: 'builtinChain', data: { flag, target: t.chain, table: table.name }, fix: deleteCommand(family, rule) });
            continue;
          }
          const elsewhere = view.ruleset.tables.filter((other) => other !== table && other.chains.some((c) => c.name === t.chain && !c.builtin));
          context.report({
            at: rule.span,
            messageId: elsewhere.length > 0 ? 'missingChainElsewhere' : 'missingChain',
            data: { flag, target: t.chain, table: table.name, elsewhere: elsewhere.map((o) => o.name).join(', ') },
            fix: `${iptablesCommand(family)} -t ${table.name} -N ${t.chain}`,
          });
        }
      }
    }
  },
});
