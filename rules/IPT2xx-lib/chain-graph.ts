// The jump graph of one table: which rules jump (-j) or go (-g) to which chain,
// which built-in chains (hooks) reach each user chain, the cycles, whether a
// chain can hand a packet back to its caller, and what calling it may change
// about a packet. Built once per table and cached: several rules ask.

import type { Chain, Rule, Table } from '../../grammar/ast.ts';

/** What a rule (or a called chain) may change about a packet before the chain goes on. */
export const Effect = {
  none: 0,
  /** Connection-tracking state (CT, NOTRACK). */
  conntrack: 1,
  /** The packet or connection mark (MARK, CONNMARK). */
  mark: 2,
  /** Addresses or anything else a later match may read (DNPT, SNPT, unknown targets). */
  packet: 4,
  all: 7,
} as const;

/** Kernel targets that change nothing a match of the model reads, and go on (or end the walk). */
const TARGETS_WITHOUT_EFFECT: ReadonlySet<string> = new Set([
  'AUDIT', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'DSCP', 'ECN', 'HL', 'IDLETIMER', 'LED', 'NFQUEUE', 'RATEEST',
  'SECMARK', 'SET', 'SYNPROXY', 'TCPOPTSTRIP', 'TEE', 'TOS', 'TPROXY', 'TTL', 'ULOG', 'NETMAP', 'MIRROR',
  'IPV4OPTSSTRIP', 'NETLINK',
]);

/** Targets after which no later rule of the chain sees the packet (a goto included). */
export function endsChainWalk(rule: Rule): boolean {
  const t = rule.target;
  if (!t) return false;
  switch (t.kind) {
    case 'verdict': case 'REJECT': case 'DNAT': case 'SNAT': case 'MASQUERADE': case 'REDIRECT':
      return true;
    case 'chain':
      return t.goto;
    default:
      return false;
  }
}

/** A rule that matches every packet: no address, interface, protocol or fragment test, only comments. */
export function isUnconditional(rule: Rule): boolean {
  const anyAddress = (a: Rule['source']) => a === undefined || (a.prefixLength === 0 && !a.negated);
  const anyInterface = (i: Rule['inInterface']) => i === undefined || (i.name === '' && i.wildcard && !i.negated);
  return rule.protocol === undefined && anyAddress(rule.source) && anyAddress(rule.destination)
    && anyInterface(rule.inInterface) && anyInterface(rule.outInterface) && rule.fragment === undefined
    && rule.matches.every((m) => m.kind === 'comment');
}

export interface Cycle {
  /** Chain names along the cycle, starting at the chain declared first; the last one jumps back to the first. */
  readonly chains: readonly string[];
  /** The jump from the last chain back to the first: removing it breaks this cycle. */
  readonly closingRule: Rule;
  /** Every chain of the strongly connected component (a cycle may be one of several there). */
  readonly component: readonly string[];
}

export class ChainGraph {
  readonly chains: ReadonlyMap<string, Chain>;
  /** Jump and goto rules by the chain name they target (names that do not exist included). */
  readonly referencedBy: ReadonlyMap<string, readonly Rule[]>;
  private readonly order: ReadonlyMap<string, number>;
  private readonly reaching = new Map<string, Set<string>>();
  private readonly parents = new Map<string, Map<string, string>>();
  private readonly returnMemo = new Map<string, boolean>();
  private readonly effectMemo = new Map<string, number>();
  private cycleList: Cycle[] | undefined;

  constructor(readonly table: Table) {
    const chains = new Map<string, Chain>();
    const referencedBy = new Map<string, Rule[]>();
    table.chains.forEach((c) => chains.set(c.name, c));
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        if (rule.target?.kind !== 'chain') continue;
        const list = referencedBy.get(rule.target.chain) ?? [];
        list.push(rule);
        referencedBy.set(rule.target.chain, list);
      }
    }
    this.chains = chains;
    this.referencedBy = referencedBy;
    this.order = new Map(table.chains.map((c, i) => [c.name, i]));
    for (const chain of table.chains) if (chain.builtin) this.walkFrom(chain.name);
  }

  private successors(name: string): string[] {
    const out: string[] = [];
    for (const rule of this.chains.get(name)?.rules ?? []) {
      if (rule.target?.kind === 'chain' && this.chains.has(rule.target.chain)) out.push(rule.target.chain);
    }
    return out;
  }

  private walkFrom(hook: string): void {
    const parent = new Map<string, string>();
    const queue = [hook];
    const seen = new Set([hook]);
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      const set = this.reaching.get(name) ?? new Set<string>();
      set.add(hook);
      this.reaching.set(name, set);
      for (const next of this.successors(name)) {
        if (seen.has(next)) continue;
        seen.add(next);
        parent.set(next, name);
        queue.push(next);
      }
    }
    this.parents.set(hook, parent);
  }

  /** Built-in chains whose packets can reach this chain (a built-in chain reaches itself). */
  hooksReaching(chain: string): ReadonlySet<string> {
    return this.reaching.get(chain) ?? new Set();
  }

  /** One shortest chain path from a built-in chain to `chain`, both included. */
  pathFrom(hook: string, chain: string): string[] | undefined {
    const parent = this.parents.get(hook);
    if (!parent) return undefined;
    if (chain === hook) return [hook];
    if (!parent.has(chain)) return undefined;
    const path = [chain];
    let at = chain;
    while (at !== hook) {
      at = parent.get(at)!;
      path.push(at);
    }
    return path.reverse();
  }

  /**
   * Whether a packet that enters `chain` by a jump can come back to the caller:
   * by falling off its end, by RETURN, or through a goto to a chain that can.
   * Unknown cases (a cycle) count as "can".
   */
  mayReturn(chain: string): boolean {
    const memo = this.returnMemo.get(chain);
    if (memo !== undefined) return memo;
    this.returnMemo.set(chain, true);
    const result = this.computeMayReturn(chain);
    this.returnMemo.set(chain, result);
    return result;
  }

  private computeMayReturn(name: string): boolean {
    const chain = this.chains.get(name);
    if (!chain) return true;
    for (const rule of chain.rules) {
      const t = rule.target;
      if (!t) continue;
      const unconditional = isUnconditional(rule);
      if (t.kind === 'verdict' && t.name === 'RETURN') return true;
      if (t.kind === 'chain') {
        if (t.goto) {
          if (this.mayReturn(t.chain)) return true;
          if (unconditional) return false;
        } else if (unconditional && !this.mayReturn(t.chain)) {
          return false;
        }
        continue;
      }
      if (unconditional && endsChainWalk(rule)) return false;
    }
    return true;
  }

  /** Whether a rule ends the walk of its chain for every packet it matches (jumps to chains that never return included). */
  terminates(rule: Rule): boolean {
    const t = rule.target;
    if (!t) return false;
    if (t.kind === 'chain') return t.goto || !this.mayReturn(t.chain);
    return endsChainWalk(rule);
  }

  /** What the rule's target may change about a packet that then goes on in this chain (Effect bits). */
  ruleEffects(rule: Rule): number {
    const t = rule.target;
    if (!t) return Effect.none;
    switch (t.kind) {
      case 'CT': case 'NOTRACK': return Effect.conntrack;
      case 'MARK': case 'CONNMARK': return Effect.mark;
      case 'other': return !t.known ? Effect.all : TARGETS_WITHOUT_EFFECT.has(t.name) ? Effect.none : Effect.packet;
      case 'chain': return t.goto ? Effect.none : this.chainEffects(t.chain);
      default: return Effect.none;
    }
  }

  /** What calling the chain may change (its rules, and the chains it jumps or goes to). */
  chainEffects(name: string): number {
    const memo = this.effectMemo.get(name);
    if (memo !== undefined) return memo;
    this.effectMemo.set(name, Effect.all);
    let bits: number = Effect.none;
    for (const rule of this.chains.get(name)?.rules ?? []) {
      const t = rule.target;
      bits |= t?.kind === 'chain' ? this.chainEffects(t.chain) : this.ruleEffects(rule);
    }
    this.effectMemo.set(name, bits);
    return bits;
  }

  /** Jump cycles, one per strongly connected component that has one. */
  cycles(): readonly Cycle[] {
    this.cycleList ??= this.findCycles();
    return this.cycleList;
  }

  private findCycles(): Cycle[] {
    const cycles: Cycle[] = [];
    for (const component of this.components()) {
      const members = new Set(component);
      const start = [...component].sort((a, b) => this.order.get(a)! - this.order.get(b)!)[0]!;
      // Shortest way back to `start` inside the component.
      const parent = new Map<string, string>();
      const queue = [start];
      let last: string | undefined;
      for (let i = 0; i < queue.length && last === undefined; i++) {
        const name = queue[i]!;
        for (const next of this.successors(name)) {
          if (next === start) { last = name; break; }
          if (!members.has(next) || parent.has(next)) continue;
          parent.set(next, name);
          queue.push(next);
        }
      }
      if (last === undefined) continue;
      const path = [last];
      while (path[path.length - 1] !== start) path.push(parent.get(path[path.length - 1]!)!);
      path.reverse();
      const closingRule = this.chains.get(last)!.rules.find((r) => r.target?.kind === 'chain' && r.target.chain === start)!;
      const sorted = [...component].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
      cycles.push({ chains: path, closingRule, component: sorted });
    }
    return cycles.sort((a, b) => a.closingRule.span.line - b.closingRule.span.line);
  }

  /** Tarjan's strongly connected components (iterative: kube-proxy tables have thousands of chains). */
  private components(): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const result: string[][] = [];
    let counter = 0;
    for (const root of this.chains.keys()) {
      if (index.has(root)) continue;
      const work: { name: string; next: string[]; i: number }[] = [];
      const open = (name: string) => {
        index.set(name, counter);
        low.set(name, counter);
        counter++;
        stack.push(name);
        onStack.add(name);
        work.push({ name, next: this.successors(name), i: 0 });
      };
      open(root);
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        if (frame.i < frame.next.length) {
          const next = frame.next[frame.i++]!;
          if (!index.has(next)) open(next);
          else if (onStack.has(next)) low.set(frame.name, Math.min(low.get(frame.name)!, index.get(next)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.name, Math.min(low.get(parent.name)!, low.get(frame.name)!));
        if (low.get(frame.name) === index.get(frame.name)) {
          const component: string[] = [];
          let member: string;
          do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(member);
          } while (member !== frame.name);
          const selfLoop = component.length === 1 && frame.next.includes(frame.name);
          if (component.length > 1 || selfLoop) result.push(component);
        }
      }
    }
    return result;
  }
}

const graphs = new WeakMap<Table, ChainGraph>();

/** The table's jump graph, built once per table object. */
export function chainGraph(table: Table): ChainGraph {
  let graph = graphs.get(table);
  if (!graph) {
    graph = new ChainGraph(table);
    graphs.set(table, graph);
  }
  return graph;
}
