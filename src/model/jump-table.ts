// A table's chains by number, with every rule's jump or goto resolved to the
// chain number it targets, once. The simulator walks these numbers and the
// chain-graph lint rules (IPT201–IPT212) build their edge list from them, so a
// jump means the same chain to both. Flat typed arrays, not a map per chain: a
// kube-proxy table has 60,000 chains.

import type { Chain, Table } from '../../grammar/ast.ts';

/** No jump or goto, or one to a chain the table does not hold. */
export const NO_CHAIN = -1;

export interface JumpTable {
  /** In declaration order; a later chain of the same name takes the earlier one's place. */
  readonly chains: readonly Chain[];
  readonly numberOf: ReadonlyMap<string, number>;
  /** Rule i of chain k sits at position `firstRule[k] + i`; `firstRule[chains.length]` is the rule count. */
  readonly firstRule: Int32Array;
  /** By position: the chain number the rule jumps or goes to, or NO_CHAIN. */
  readonly jumps: Int32Array;
}

/** Tables are immutable: the simulator and the chain-graph rules share one resolution per table. */
const resolved = new WeakMap<Table, JumpTable>();

export function jumpTable(table: Table): JumpTable {
  let known = resolved.get(table);
  if (!known) {
    known = resolveJumps(table);
    resolved.set(table, known);
  }
  return known;
}

function resolveJumps(table: Table): JumpTable {
  const chains: Chain[] = [];
  const numberOf = new Map<string, number>();
  for (const chain of table.chains) {
    const number = numberOf.get(chain.name);
    if (number === undefined) {
      numberOf.set(chain.name, chains.length);
      chains.push(chain);
    } else {
      chains[number] = chain;
    }
  }
  const firstRule = new Int32Array(chains.length + 1);
  for (let k = 0; k < chains.length; k++) firstRule[k + 1] = firstRule[k]! + chains[k]!.rules.length;
  const jumps = new Int32Array(firstRule[chains.length]!);
  for (let k = 0, position = 0; k < chains.length; k++) {
    const rules = chains[k]!.rules;
    for (let i = 0; i < rules.length; i++, position++) {
      const target = rules[i]!.target;
      jumps[position] = target?.kind === 'chain' ? (numberOf.get(target.chain) ?? NO_CHAIN) : NO_CHAIN;
    }
  }
  return { chains, numberOf, firstRule, jumps };
}
