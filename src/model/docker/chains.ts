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
  /** Every rule of every table, in file order. */
  readonly allRules: readonly Rule[];
}

export function indexRuleset(ruleset: Ruleset): RulesetIndex {
  const chains = new Map<string, Chain>();
  const tables = new Set<TableName>();
  const allRules: Rule[] = [];
  for (const table of ruleset.tables) {
    tables.add(table.name);
    for (const chain of table.chains) {
      chains.set(`${table.name} ${chain.name}`, chain);
      for (const rule of chain.rules) allRules.push(rule);
    }
  }
  allRules.sort((a, b) => a.span.line - b.span.line);
  return {
    ruleset,
    hasTable: (table) => tables.has(table),
    chain: (table, name) => chains.get(`${table} ${name}`),
    rules: (table, name) => chains.get(`${table} ${name}`)?.rules ?? [],
    allRules,
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
