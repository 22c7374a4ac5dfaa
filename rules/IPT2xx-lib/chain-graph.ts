// The jump graph of one table: which rules jump (-j) or go (-g) to which chain,
// which built-in chains (hooks) reach each user chain, the cycles, how deep
// below a built-in chain each chain sits, whether a chain can hand a packet back
// to its caller, and what calling it may change about a packet. Built once per
// table and cached: several rules ask.

import type { Chain, Rule, Table } from '../../grammar/ast.ts';
import { jumpTable, NO_CHAIN } from '../../src/model/jump-table.ts';

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

/** How deep below a built-in chain a chain sits: the most jumps and gotos on one path to it. */
export interface JumpDepth {
  /** 0 for a built-in chain. */
  readonly depth: number;
  /** The jump or goto that ends one path that deep (none for a built-in chain). */
  readonly via?: Rule;
}

export class ChainGraph {
  readonly chains: ReadonlyMap<string, Chain>;
  /** Jump and goto rules by the chain name they target (names that do not exist included). */
  readonly referencedBy: ReadonlyMap<string, readonly Rule[]>;
  // Chains are numbered in declaration order; the graph works on the numbers (kube-proxy tables have tens of thousands).
  private readonly names: readonly string[];
  private readonly idOf: ReadonlyMap<string, number>;
  /**
   * The jumps and gotos between existing chains as one flat edge list (repeats kept):
   * chain c's edges are edgeStart[c] .. edgeStart[c + 1] - 1, edge e goes to chain
   * edgeTarget[e] by the rule edgeRule[e]. Two arrays per chain were most of the
   * graph's cost on kube-proxy tables (60,000 chains).
   */
  private readonly edgeStart: Int32Array;
  private readonly edgeTarget: Int32Array;
  private readonly edgeRule: readonly Rule[];
  private readonly hooks: readonly string[];
  /** Bit h set: built-in chain hooks[h] reaches the chain. */
  private readonly reachMask: Uint8Array;
  private readonly maskNames = new Map<number, ReadonlySet<string>>();
  private readonly returnMemo = new Map<string, boolean>();
  private readonly effectMemo = new Map<string, number>();
  private cycleList: Cycle[] | undefined;
  private depthList: (JumpDepth | undefined)[] | undefined;

  constructor(readonly table: Table) {
    // Chain numbers and each rule's resolved jump come from the simulator's own table of them.
    const { chains: numbered, numberOf, firstRule, jumps } = jumpTable(table);
    const chains = new Map<string, Chain>();
    const referencedBy = new Map<string, Rule[]>();
    const edgeStart = new Int32Array(numbered.length + 1);
    const targets: number[] = [];
    const edgeRule: Rule[] = [];
    for (let c = 0; c < numbered.length; c++) {
      chains.set(numbered[c]!.name, numbered[c]!);
      edgeStart[c] = targets.length;
      const rules = numbered[c]!.rules;
      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r]!;
        if (rule.target?.kind !== 'chain') continue;
        const list = referencedBy.get(rule.target.chain);
        if (list) list.push(rule); else referencedBy.set(rule.target.chain, [rule]);
        const to = jumps[firstRule[c]! + r]!;
        if (to !== NO_CHAIN) { targets.push(to); edgeRule.push(rule); }
      }
    }
    edgeStart[numbered.length] = targets.length;
    this.chains = chains;
    this.referencedBy = referencedBy;
    this.idOf = numberOf;
    this.names = numbered.map((c) => c.name);
    this.edgeStart = edgeStart;
    this.edgeTarget = Int32Array.from(targets);
    this.edgeRule = edgeRule;
    this.hooks = numbered.filter((c) => c.builtin).map((c) => c.name);
    this.reachMask = new Uint8Array(numbered.length);
    this.hooks.forEach((hook, h) => this.mark(numberOf.get(hook)!, 1 << h));
  }

  /** Sets `bit` on every chain reachable from `start` (breadth-first). */
  private mark(start: number, bit: number): void {
    const queue = [start];
    this.reachMask[start]! |= bit;
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      for (let e = this.edgeStart[node]!; e < this.edgeStart[node + 1]!; e++) {
        const next = this.edgeTarget[e]!;
        if (this.reachMask[next]! & bit) continue;
        this.reachMask[next]! |= bit;
        queue.push(next);
      }
    }
  }

  private successors(name: string): string[] {
    const id = this.idOf.get(name);
    if (id === undefined) return [];
    const out: string[] = [];
    for (let e = this.edgeStart[id]!; e < this.edgeStart[id + 1]!; e++) out.push(this.names[this.edgeTarget[e]!]!);
    return out;
  }

  /** Whether chain `from` jumps or goes to chain `to`. */
  private jumpsTo(from: number, to: number): boolean {
    for (let e = this.edgeStart[from]!; e < this.edgeStart[from + 1]!; e++) if (this.edgeTarget[e] === to) return true;
    return false;
  }

  /** Whether any built-in chain reaches this chain. */
  isReached(chain: string): boolean {
    const id = this.idOf.get(chain);
    return id !== undefined && this.reachMask[id] !== 0;
  }

  /** Built-in chains whose packets can reach this chain (a built-in chain reaches itself). */
  hooksReaching(chain: string): ReadonlySet<string> {
    const id = this.idOf.get(chain);
    const mask = id === undefined ? 0 : this.reachMask[id]!;
    let names = this.maskNames.get(mask);
    if (!names) {
      names = new Set(this.hooks.filter((_, h) => mask & (1 << h)));
      this.maskNames.set(mask, names);
    }
    return names;
  }

  /** One shortest chain path from a built-in chain to `chain`, both included. */
  pathFrom(hook: string, chain: string): string[] | undefined {
    const start = this.idOf.get(hook);
    const goal = this.idOf.get(chain);
    if (start === undefined || goal === undefined) return undefined;
    const parent = new Int32Array(this.names.length).fill(-1);
    parent[start] = start;
    const queue = [start];
    for (let i = 0; i < queue.length && parent[goal] === -1; i++) {
      const node = queue[i]!;
      for (let e = this.edgeStart[node]!; e < this.edgeStart[node + 1]!; e++) {
        const next = this.edgeTarget[e]!;
        if (parent[next] !== -1) continue;
        parent[next] = node;
        queue.push(next);
      }
    }
    if (parent[goal] === -1) return undefined;
    const path = [goal];
    while (path[path.length - 1] !== start) path.push(parent[path[path.length - 1]!]!);
    return path.reverse().map((n) => this.names[n]!);
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

  /** How deep below a built-in chain the chain sits; undefined when no built-in chain reaches it. */
  jumpDepth(chain: string): JumpDepth | undefined {
    const id = this.idOf.get(chain);
    if (id === undefined) return undefined;
    this.depthList ??= this.computeDepths();
    return this.depthList[id];
  }

  /**
   * Longest paths from the built-in chains: a depth-first walk (with its own stack: jump
   * chains 10,000 deep exist) orders the chains so that every jump that does not close a
   * loop points forward, then one pass in that order relaxes each jump once. A jump back
   * to a chain the walk is still inside closes a loop (IPT203's) and is not followed.
   */
  private computeDepths(): (JumpDepth | undefined)[] {
    const n = this.names.length;
    const finished: number[] = [];
    // 0: not seen, 1: on the walk's stack, 2: finished.
    const state = new Uint8Array(n);
    for (const hook of this.hooks) {
      const root = this.idOf.get(hook)!;
      if (state[root] !== 0) continue;
      // `i`: the frame's next edge.
      const stack: { node: number; i: number }[] = [{ node: root, i: this.edgeStart[root]! }];
      state[root] = 1;
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!;
        if (frame.i < this.edgeStart[frame.node + 1]!) {
          const to = this.edgeTarget[frame.i++]!;
          if (state[to] === 0) { state[to] = 1; stack.push({ node: to, i: this.edgeStart[to]! }); }
          continue;
        }
        state[frame.node] = 2;
        finished.push(frame.node);
        stack.pop();
      }
    }
    const order = finished.reverse();
    const position = new Int32Array(n).fill(-1);
    order.forEach((node, i) => { position[node] = i; });
    const depth = new Int32Array(n).fill(-1);
    const via: (Rule | undefined)[] = new Array(n).fill(undefined);
    for (const hook of this.hooks) depth[this.idOf.get(hook)!] = 0;
    for (const node of order) {
      const from = depth[node]!;
      if (from < 0) continue;
      for (let e = this.edgeStart[node]!; e < this.edgeStart[node + 1]!; e++) {
        const to = this.edgeTarget[e]!;
        if (position[to]! <= position[node]!) continue;
        if (from + 1 > depth[to]!) { depth[to] = from + 1; via[to] = this.edgeRule[e]; }
      }
    }
    return Array.from(depth, (d, i) => (d < 0 ? undefined : { depth: d, via: via[i] }));
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
      const start = [...component].sort((a, b) => this.idOf.get(a)! - this.idOf.get(b)!)[0]!;
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
      const sorted = [...component].sort((a, b) => this.idOf.get(a)! - this.idOf.get(b)!);
      cycles.push({ chains: path, closingRule, component: sorted });
    }
    return cycles.sort((a, b) => a.closingRule.span.line - b.closingRule.span.line);
  }

  /** Tarjan's strongly connected components (iterative: kube-proxy tables have thousands of chains). */
  private components(): string[][] {
    const n = this.names.length;
    const index = new Int32Array(n).fill(-1);
    const low = new Int32Array(n);
    const onStack = new Uint8Array(n);
    const stack: number[] = [];
    const result: string[][] = [];
    let counter = 0;
    for (let root = 0; root < n; root++) {
      if (index[root] !== -1) continue;
      const work: { node: number; i: number }[] = [];
      const open = (node: number) => {
        index[node] = low[node] = counter++;
        stack.push(node);
        onStack[node] = 1;
        work.push({ node, i: this.edgeStart[node]! });
      };
      open(root);
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        if (frame.i < this.edgeStart[frame.node + 1]!) {
          const to = this.edgeTarget[frame.i++]!;
          if (index[to] === -1) open(to);
          else if (onStack[to]) low[frame.node] = Math.min(low[frame.node]!, index[to]!);
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low[parent.node] = Math.min(low[parent.node]!, low[frame.node]!);
        if (low[frame.node] === index[frame.node]) {
          const component: number[] = [];
          let member: number;
          do {
            member = stack.pop()!;
            onStack[member] = 0;
            component.push(member);
          } while (member !== frame.node);
          const selfLoop = component.length === 1 && this.jumpsTo(frame.node, frame.node);
          if (component.length > 1 || selfLoop) result.push(component.map((c) => this.names[c]!));
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
