// IPT206 target-wrong-table: a target used in a table or chain the kernel
// refuses it in. Each xtables target declares the table it works in and the
// hooks (built-in chains) it may run from; a rule in a user chain runs from
// every hook that reaches the chain. The kernel checks both when the rule is
// loaded and rejects the table (EINVAL). Restrictions, from the kernel's
// xt_* target definitions (checked by loading each case on both backends):
//
//   DNAT, REDIRECT   nat: PREROUTING, OUTPUT
//   SNAT             nat: POSTROUTING, INPUT
//   MASQUERADE       nat: POSTROUTING
//   REJECT           filter: INPUT, FORWARD, OUTPUT
//   CT, NOTRACK      raw
//   TRACE            raw (iptables-legacy; iptables-nft translates it to nftables' nftrace and allows any table)
//   CHECKSUM         mangle
//   TCPMSS --clamp-mss-to-pmtu   FORWARD, OUTPUT, POSTROUTING (any table)
//   TPROXY           mangle: PREROUTING
// MARK, CONNMARK, LOG and NFLOG work in every table and chain.
// TCPMSS also needs `-p tcp`. Some match modules are hook-bound the same way:
//
//   -m owner                                   OUTPUT, POSTROUTING
//   -m mac                                     PREROUTING, INPUT, FORWARD
//   -m physdev --physdev-out (not bridged)     PREROUTING, INPUT
//   -m addrtype --limit-iface-in               PREROUTING, INPUT, FORWARD
//   -m addrtype --limit-iface-out              OUTPUT, FORWARD, POSTROUTING

import type { Match, Rule, Table, TableName, Target } from '../../grammar/ast.ts';
import { BUILTIN_CHAINS } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { chainGraph } from '../IPT2xx-lib/chain-graph.ts';
import { appendCommand, backendOf, deleteCommand, iptablesCommand, ruleLabel } from '../IPT2xx-lib/iptables.ts';

interface Restriction {
  readonly name: string;
  readonly table?: TableName;
  /** Built-in chains (hooks) it may run from; undefined: any of the table's. */
  readonly hooks?: readonly string[];
  /** Where the fix moves a rule that is in the wrong table. */
  readonly home: string;
}

function restrictionOf(target: Target, backend: ReturnType<typeof backendOf>): Restriction | undefined {
  switch (target.kind) {
    case 'DNAT': return { name: 'DNAT', table: 'nat', hooks: ['PREROUTING', 'OUTPUT'], home: 'PREROUTING' };
    case 'REDIRECT': return { name: 'REDIRECT', table: 'nat', hooks: ['PREROUTING', 'OUTPUT'], home: 'PREROUTING' };
    case 'SNAT': return { name: 'SNAT', table: 'nat', hooks: ['POSTROUTING', 'INPUT'], home: 'POSTROUTING' };
    case 'MASQUERADE': return { name: 'MASQUERADE', table: 'nat', hooks: ['POSTROUTING'], home: 'POSTROUTING' };
    case 'REJECT': return { name: 'REJECT', table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT'], home: 'INPUT' };
    case 'CT': return { name: 'CT', table: 'raw', home: 'PREROUTING' };
    case 'NOTRACK': return { name: 'NOTRACK', table: 'raw', home: 'PREROUTING' };
    case 'TRACE': return backend === 'nf_tables' ? undefined : { name: 'TRACE', table: 'raw', home: 'PREROUTING' };
    case 'CHECKSUM': return { name: 'CHECKSUM', table: 'mangle', home: 'POSTROUTING' };
    case 'TCPMSS':
      return target.options.some((o) => o.name === '--clamp-mss-to-pmtu')
        ? { name: 'TCPMSS --clamp-mss-to-pmtu', hooks: ['FORWARD', 'OUTPUT', 'POSTROUTING'], home: 'FORWARD' }
        : undefined;
    case 'other':
      return target.name === 'TPROXY' ? { name: 'TPROXY', table: 'mangle', hooks: ['PREROUTING'], home: 'PREROUTING' } : undefined;
    default:
      return undefined;
  }
}

/** Hooks a match module may run from, when the kernel restricts them. */
function matchRestriction(m: Match): { readonly name: string; readonly hooks: readonly string[] } | undefined {
  switch (m.kind) {
    case 'opaque':
      return m.module === 'owner' ? { name: '-m owner', hooks: ['OUTPUT', 'POSTROUTING'] } : undefined;
    case 'mac':
      return { name: '-m mac', hooks: ['PREROUTING', 'INPUT', 'FORWARD'] };
    case 'physdev':
      return m.physdevOut && !(m.isBridged && !m.isBridged.negated)
        ? { name: '-m physdev --physdev-out without --physdev-is-bridged', hooks: ['PREROUTING', 'INPUT'] }
        : undefined;
    case 'addrtype':
      if (m.limitIfaceIn) return { name: '-m addrtype --limit-iface-in', hooks: ['PREROUTING', 'INPUT', 'FORWARD'] };
      if (m.limitIfaceOut) return { name: '-m addrtype --limit-iface-out', hooks: ['OUTPUT', 'FORWARD', 'POSTROUTING'] };
      return undefined;
    default:
      return undefined;
  }
}

function where(r: Restriction): string {
  const chains = r.hooks ? r.hooks.join(', ') : 'any';
  return r.table ? `the ${r.table} table (${chains === 'any' ? 'any chain' : `chains ${chains}`})` : `the ${r.hooks!.join(', ')} chains`;
}

export default defineRule<'wrongTable' | 'wrongChain' | 'wrongChainViaJump' | 'matchWrongHook' | 'tcpmssWithoutTcp'>({
  meta: {
    id: 'IPT206',
    name: 'target-wrong-table',
    severity: 'error',
    summary: 'A target in a table or chain the kernel does not allow it in (DNAT outside nat PREROUTING/OUTPUT, REJECT outside filter …).',
    description:
      'Every xtables target declares the table it works in and the built-in chains (hooks) it may run from: DNAT and '
      + 'REDIRECT only in nat PREROUTING and OUTPUT, SNAT in nat POSTROUTING and INPUT, MASQUERADE in nat POSTROUTING, '
      + 'REJECT in filter INPUT, FORWARD and OUTPUT, CT/NOTRACK/TRACE in raw, CHECKSUM in mangle, TCPMSS '
      + '--clamp-mss-to-pmtu in FORWARD, OUTPUT and POSTROUTING, TPROXY in mangle PREROUTING. A rule in a user chain '
      + 'runs from every built-in chain that reaches it. The kernel rejects a rule outside its places (EINVAL), so '
      + 'iptables-restore refuses the whole table. The same holds for TCPMSS without -p tcp, and for match modules '
      + 'bound to some hooks: -m owner (OUTPUT, POSTROUTING), -m mac (PREROUTING, INPUT, FORWARD), -m physdev '
      + '--physdev-out for non-bridged traffic (PREROUTING, INPUT), -m addrtype --limit-iface-in/--limit-iface-out.',
    tags: ['correctness', 'iptables'],
    messages: {
      wrongTable:
        '{target} only works in {allowed}, but this rule is in the {table} table: the kernel rejects it (EINVAL) and '
        + 'iptables-restore refuses the whole {table} table, so none of its rules would be loaded. Move it to {home}.',
      wrongChain:
        '{target} only works in {allowed}, but this rule is in {chain}: the kernel rejects it (EINVAL) and '
        + 'iptables-restore refuses the whole {table} table. Move it to {home}.',
      wrongChainViaJump:
        '{target} only works in {allowed}, but {hook} reaches this rule ({path}): the kernel rejects it (EINVAL) and '
        + 'iptables-restore refuses the whole {table} table. Stop jumping to {chain} from {hook} ({jump}).',
      matchWrongHook:
        '{match} only works in the {allowed} chains, but {hook} reaches this rule ({path}): the kernel rejects it '
        + '(EINVAL) and iptables-restore refuses the whole {table} table.',
      tcpmssWithoutTcp:
        'TCPMSS rewrites a TCP option, so the kernel accepts it only in a rule restricted to "-p tcp" (EINVAL '
        + 'otherwise) and iptables-restore refuses the whole {table} table. Add "-p tcp --tcp-flags SYN,RST SYN".',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    for (const view of context.host.views) {
      const family = view.ruleset.family;
      const backend = backendOf(view.ruleset);
      for (const table of view.ruleset.tables) {
        const graph = chainGraph(table);
        for (const chain of table.chains) {
          for (const rule of chain.rules) {
            for (const m of rule.matches) {
              const restriction = matchRestriction(m);
              if (!restriction) continue;
              const hook = [...graph.hooksReaching(chain.name)].filter((h) => !restriction.hooks.includes(h)).sort()[0];
              if (!hook) continue;
              const path = chain.builtin ? [chain.name] : graph.pathFrom(hook, chain.name)!;
              context.report({
                at: rule.span,
                messageId: 'matchWrongHook',
                data: { match: restriction.name, allowed: restriction.hooks.join(', '), hook, path: path.join(' → '), table: table.name },
                fix: deleteCommand(family, rule),
              });
            }
            if (rule.target?.kind === 'TCPMSS' && (!rule.protocol || rule.protocol.negated || rule.protocol.name !== 'tcp')) {
              context.report({ at: rule.span, messageId: 'tcpmssWithoutTcp', data: { table: table.name }, fix: deleteCommand(family, rule) });
            }
            if (!rule.target) continue;
            const r = restrictionOf(rule.target, backend);
            if (!r) continue;
            if (r.table && r.table !== table.name) {
              const home = chain.builtin && r.hooks?.includes(chain.name) !== false && hasChain(r.table, chain.name) ? chain.name : r.home;
              context.report({
                at: rule.span,
                messageId: 'wrongTable',
                data: { target: r.name, allowed: where(r), table: table.name, home: `${r.table} ${home}` },
                fix: `${deleteCommand(family, rule)} && ${appendCommand(family, r.table, home, rule.text)}`,
              });
              continue;
            }
            if (!r.hooks) continue;
            const bad = [...graph.hooksReaching(chain.name)].filter((h) => !r.hooks!.includes(h)).sort();
            if (bad.length === 0) continue;
            const hook = bad[0]!;
            if (chain.builtin) {
              const home = r.hooks.includes(r.home) && hasChain(table.name, r.home) ? r.home : r.hooks.find((h) => hasChain(table.name, h)) ?? r.home;
              context.report({
                at: rule.span,
                messageId: 'wrongChain',
                data: { target: r.name, allowed: where(r), chain: `${table.name} ${chain.name}`, table: table.name, home: `${table.name} ${home}` },
                fix: `${deleteCommand(family, rule)} && ${appendCommand(family, table.name, home, rule.text)}`,
              });
              continue;
            }
            const path = graph.pathFrom(hook, chain.name)!;
            const jump = firstJump(table, path);
            context.report({
              at: rule.span,
              messageId: 'wrongChainViaJump',
              data: {
                target: r.name, allowed: where(r), hook, path: path.join(' → '), table: table.name, chain: path[1]!,
                jump: jump ? `\`${ruleLabel(jump)}\`, line ${jump.span.line}` : '',
              },
              fix: jump ? deleteCommand(family, jump) : `${iptablesCommand(family)} -t ${table.name} -D ${hook} -j ${path[1]}`,
            });
          }
        }
      }
    }
  },
});

function hasChain(table: TableName, chain: string): boolean {
  return BUILTIN_CHAINS[table].includes(chain);
}

/** The rule in the path's built-in chain that jumps (or goes) to the next chain of the path. */
function firstJump(table: Table, path: readonly string[]): Rule | undefined {
  const [hook, next] = path;
  return table.chains.find((c) => c.name === hook)?.rules.find((r) => r.target?.kind === 'chain' && r.target.chain === next);
}
