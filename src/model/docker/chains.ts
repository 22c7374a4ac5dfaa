// Chain lookup over a ruleset, and the names of the chains Docker owns.

import type { Chain, Rule, Ruleset, TableName } from '../../../grammar/ast.ts';

/** Chains Docker creates and manages (DOCKER-USER is the user's, so it is not here). */
export const DOCKER_OWNED_CHAINS: Readonly<Partial<Record<TableName, readonly string[]>>> = {
  filter: [
    'DOCKER', 'DOCKER-FORWARD', 'DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-INTERNAL',
    'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-INGRESS',
    // Removed by Docker 17.06+ on start, still found on old hosts.
    'DOCKER-ISOLATION',
  ],
  nat: ['DOCKER', 'DOCKER-INGRESS'],
};

export interface RulesetIndex {
  readonly ruleset: Ruleset;
  hasTable(table: TableName): boolean;
  chain(table: TableName, name: string): Chain | undefined;
  /** The chain's rules; empty when the chain is absent. */
  rules(table: TableName, name: string): readonly Rule[];
}

export function indexRuleset(ruleset: Ruleset): RulesetIndex {
  // By table, then by name: a kube-proxy table has 60,000 chains, and a joined
  // "table chain" key is a new string to hash for each of them.
  const tables = new Map<TableName, Map<string, Chain>>();
  for (const table of ruleset.tables) {
    let chains = tables.get(table.name);
    if (!chains) tables.set(table.name, (chains = new Map()));
    for (const chain of table.chains) chains.set(chain.name, chain);
  }
  const chain = (table: TableName, name: string) => tables.get(table)?.get(name);
  return {
    ruleset,
    hasTable: (table) => tables.has(table),
    chain,
    rules: (table, name) => chain(table, name)?.rules ?? [],
  };
}

/** Docker-owned chains present, by name (nat DOCKER and filter DOCKER are both "DOCKER"). */
export function dockerChainsPresent(index: RulesetIndex): Set<string> {
  const names = new Set<string>();
  for (const [table, list] of Object.entries(DOCKER_OWNED_CHAINS) as [TableName, readonly string[]][]) {
    for (const name of list) if (index.chain(table, name)) names.add(name);
  }
  return names;
}

/** A rule with no match and no interface/address/protocol: `-j X` alone. */
export function isUnconditional(rule: Rule): boolean {
  return !rule.protocol && !rule.source && !rule.destination && !rule.inInterface && !rule.outInterface
    && !rule.fragment && rule.matches.length === 0;
}
