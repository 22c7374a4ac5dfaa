// Walks one packet through netfilter in the kernel's order.
//
// Arriving packets: raw PREROUTING → conntrack → mangle PREROUTING → nat
// PREROUTING (first packet of a connection only) → routing → either INPUT
// (mangle, filter, security, nat) or FORWARD (mangle, filter, security) then
// POSTROUTING (mangle, nat). Packets the host sends: raw, mangle, nat, filter,
// security OUTPUT → routing → POSTROUTING; a local destination then comes
// back in through PREROUTING/INPUT on lo, as the kernel loops it.
//
// Unknown matches fork the walk: every combination that changes the outcome
// is explored (up to a bound), and the verdict is unknown when they disagree.

import type { Chain, Family, Rule, Ruleset, Table, TableName } from '../../grammar/ast.ts';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../grammar/address.ts';
import type { HostModel } from '../model/host.ts';
import { jumpTable, NO_CHAIN } from '../model/jump-table.ts';
import {
  compileRule, evaluateRule, MATCH, NO, UNKNOWN, type CompiledRule, type EvalContext, type HostFacts, type SimPacket, type SourceTest, type Tri,
} from './compile.ts';
import { findSourceRuns, type SourceRun } from './source-runs.ts';
import type { Hook, Reach, StepAction, Trace, TraceStep, Verdict } from './types.ts';

interface CompiledChain {
  readonly name: string;
  readonly builtin: boolean;
  readonly policy: 'ACCEPT' | 'DROP';
  readonly policyLine: number;
  readonly rules: readonly Rule[];
  /** Rule i compiled. */
  compiledRule(i: number): CompiledRule;
  /** Each rule's jump or goto target as a chain number of its table (NO_CHAIN: none). */
  readonly jumps: Int32Array;
  /** For long chains: which rules can possibly match a packet, by destination or port. */
  readonly index?: ChainIndex;
  readonly quietTail: readonly boolean[];
  /** Blocklist-like runs of rules that differ only by source, by the position of their first rule. */
  readonly runs: ReadonlyMap<number, SourceRun>;
}

/**
 * What a user chain did to a packet that entered it in a given state and came
 * back (fell off its end or met RETURN) without an undecidable match deciding
 * anything: the packet as it returned. Within one chain walk only the marks and
 * the conntrack state can change and still come back (a NAT rewrite ends the
 * walk), and the chain walk is deterministic given them, so a second jump into
 * the chain in that state returns the same packet. Chains that jump twice into
 * the next one then cost steps linear in their number instead of 2^depth.
 */
interface ChainSummary {
  readonly returned: SimPacket;
  /** Stack depth at entry: a deeper entry might meet the depth bound inside. */
  readonly depth: number;
}

interface Frame {
  readonly chain: CompiledChain;
  index: number;
  readonly order: readonly number[] | undefined;
  /** Every frame below this one sits at a rule after which nothing changes where the packet goes. */
  readonly quietBelow: boolean;
  /** Where to record this chain invocation's summary when it returns. */
  readonly summaryKey: string | undefined;
  readonly decisionsAtEntry: number;
}

/**
 * Long chains (kube-proxy's KUBE-SERVICES, Docker's DOCKER with hundreds of
 * published ports) are mostly rules keyed on one destination address or one
 * destination port. A rule with `-d X/32` (or `-p P --dport N`) cannot match a
 * packet whose destination (port) differs, so a walk only visits the rules
 * keyed on the packet's own destination and port, plus the unkeyed ones, in
 * chain order.
 */
interface ChainIndex {
  readonly byDestination: ReadonlyMap<string, readonly number[]>;
  readonly byPort: ReadonlyMap<string, readonly number[]>;
  readonly unkeyed: readonly number[];
}

const INDEX_MIN_RULES = 48;

function portKey(proto: number, port: number): string {
  return `${proto}/${port}`;
}

function buildIndex(rules: readonly Rule[], family: Family): ChainIndex | undefined {
  if (rules.length < INDEX_MIN_RULES) return undefined;
  const byDestination = new Map<string, number[]>();
  const byPort = new Map<string, number[]>();
  const unkeyed: number[] = [];
  const hostBits = family === 'ipv4' ? 32 : 128;
  rules.forEach((rule, i) => {
    const d = rule.destination;
    if (d && !d.negated && d.prefixLength === hostBits) {
      const list = byDestination.get(d.address) ?? [];
      list.push(i);
      byDestination.set(d.address, list);
      return;
    }
    const proto = rule.protocol && !rule.protocol.negated ? rule.protocol.number : undefined;
    const portMatch = proto === undefined ? undefined : rule.matches.find((m) => (m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp') && m.dport);
    const dport = portMatch && 'dport' in portMatch ? portMatch.dport : undefined;
    if (proto !== undefined && dport && !dport.negated && dport.ranges.length === 1 && dport.ranges[0]!.from === dport.ranges[0]!.to) {
      const key = portKey(proto, dport.ranges[0]!.from);
      const list = byPort.get(key) ?? [];
      list.push(i);
      byPort.set(key, list);
      return;
    }
    unkeyed.push(i);
  });
  return { byDestination, byPort, unkeyed };
}

const NO_RULES: readonly number[] = [];
const NO_REASONS: readonly string[] = [];

/** Candidate rule positions for a packet, in chain order. */
function candidates(index: ChainIndex, p: SimPacket): readonly number[] {
  const a = index.unkeyed;
  const b = index.byDestination.get(p.dst) ?? NO_RULES;
  const c = p.proto === 6 || p.proto === 17 || p.proto === 132 ? (index.byPort.get(portKey(p.proto, p.dport)) ?? NO_RULES) : NO_RULES;
  if (b.length === 0 && c.length === 0) return a;
  return mergeSorted(mergeSorted(a, b), c);
}

function mergeSorted(a: readonly number[], b: readonly number[]): readonly number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]! < b[j]! ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

export interface CompiledRuleset {
  readonly ruleset: Ruleset;
  readonly family: Family;
  readonly tables: ReadonlyMap<TableName, CompiledTable>;
  /** Whether any rule makes the kernel track connections (see `tracksConnections`). */
  readonly tracksConnections: boolean;
}

/**
 * A table's chains by number, with every rule's jump resolved to a chain number
 * once: the acyclicity check and the walks share it, and neither looks a chain
 * up by name. Chains are compiled on first entry: a walk enters few of a
 * kube-proxy table's 60,000 chains (a service's chains only for packets to it).
 */
export interface CompiledTable {
  readonly name: TableName;
  /** In declaration order; a later chain of the same name takes the earlier one's place. */
  readonly chains: readonly Chain[];
  readonly numberOf: ReadonlyMap<string, number>;
  /** No chain can reach itself through jumps and gotos: a chain's summary cannot depend on the chains below it on the stack. */
  readonly acyclic: boolean;
  /** The chain by number, compiled. */
  chain(number: number): CompiledChain;
}

/**
 * True when no chain of the table can reach itself through jumps and gotos:
 * an iterative DFS over chain numbers (a kube-proxy table has 60,000 chains,
 * so no per-chain arrays or string-keyed colour map). `jumps[firstRule[k] + i]`
 * is where rule i of chain k jumps or goes to.
 */
function jumpGraphAcyclic(chainCount: number, firstRule: Int32Array, jumps: Int32Array): boolean {
  /** 0 unseen, 1 on the DFS stack, 2 done. */
  const colour = new Uint8Array(chainCount);
  const chainStack: number[] = [];
  const positionStack: number[] = [];
  for (let start = 0; start < chainCount; start++) {
    if (colour[start] !== 0) continue;
    colour[start] = 1;
    chainStack.push(start);
    positionStack.push(firstRule[start]!);
    while (chainStack.length > 0) {
      const top = chainStack.length - 1;
      const end = firstRule[chainStack[top]! + 1]!;
      let position = positionStack[top]!;
      let next = NO_CHAIN;
      while (position < end && next === NO_CHAIN) next = jumps[position++]!;
      positionStack[top] = position;
      if (next === NO_CHAIN) {
        colour[chainStack.pop()!] = 2;
        positionStack.pop();
        continue;
      }
      if (colour[next] === 1) return false;
      if (colour[next] === 2) continue;
      colour[next] = 1;
      chainStack.push(next);
      positionStack.push(firstRule[next]!);
    }
  }
  return true;
}

function compileTable(family: Family, table: Table): CompiledTable {
  const { chains, numberOf, firstRule, jumps } = jumpTable(table);
  const compiled: (CompiledChain | undefined)[] = new Array<CompiledChain | undefined>(chains.length);
  return {
    name: table.name,
    chains,
    numberOf,
    acyclic: jumpGraphAcyclic(chains.length, firstRule, jumps),
    chain: (number) => (compiled[number] ??= compileChain(family, chains[number]!, jumps.subarray(firstRule[number]!, firstRule[number + 1]!))),
  };
}

/** Rules are compiled when first evaluated: an indexed chain's walk evaluates few of them. */
function compileChain(family: Family, chain: Chain, jumps: Int32Array): CompiledChain {
  const rules = chain.rules;
  const compiled: (CompiledRule | undefined)[] = new Array<CompiledRule | undefined>(rules.length);
  return {
    name: chain.name,
    builtin: chain.builtin,
    policy: chain.policy ?? 'ACCEPT',
    policyLine: chain.span?.line ?? 0,
    rules,
    compiledRule: (i) => (compiled[i] ??= compileRule(family, rules[i]!)),
    jumps,
    index: buildIndex(rules, family),
    quietTail: quietTails(rules, chain.policy ?? 'ACCEPT', chain.builtin),
    runs: findSourceRuns(family, rules),
  };
}

function chainNamed(table: CompiledTable | undefined, name: string): CompiledChain | undefined {
  const number = table?.numberOf.get(name);
  return number === undefined ? undefined : table!.chain(number);
}

export function compileRuleset(ruleset: Ruleset): CompiledRuleset {
  const tables = new Map<TableName, CompiledTable>();
  for (const table of ruleset.tables) tables.set(table.name, compileTable(ruleset.family, table));
  return { ruleset, family: ruleset.family, tables, tracksConnections: tracksConnections(ruleset) };
}

/** Match modules whose kernel extension asks for connection tracking when loaded (nf_ct_netns_get). */
const CONNTRACK_MATCHES: ReadonlySet<string> = new Set(['conntrack', 'state', 'connmark', 'connbytes', 'connlabel', 'connlimit', 'helper', 'cluster']);
/** Targets that do the same: every NAT target, and the ones that read or set conntrack state. */
const CONNTRACK_TARGETS: ReadonlySet<string> = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'CONNMARK', 'CONNSECMARK', 'CT', 'NOTRACK']);

/**
 * Since Linux 4.10 a network namespace tracks connections only while some rule
 * needs it: a conntrack or state match, a NAT target, CONNMARK, CT … register
 * the conntrack hooks when loaded. Without them no packet has a conntrack
 * entry, and the nat table, which runs for a connection's first packet only,
 * is never consulted (checked in namespaces: a nat PREROUTING `-j DOCKER` is
 * traced only once the ruleset also holds such a rule). Rules outside this dump
 * (native nftables tables) could still switch tracking on; without a NAT
 * target of its own the nat table can then only log, so the verdicts agree.
 */
function tracksConnections(ruleset: Ruleset): boolean {
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        const target = rule.target;
        if (target && CONNTRACK_TARGETS.has(target.kind === 'other' ? target.name : target.kind)) return true;
        for (const match of rule.matches) if (CONNTRACK_MATCHES.has(match.module)) return true;
      }
    }
  }
  return false;
}

/** Hooks in the kernel's table order. */
const TABLES_AT: Readonly<Record<Hook, readonly TableName[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};

type ChainOutcome =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject' }
  | { readonly kind: 'queue' };

const MAX_BRANCHES = 64;

/** Targets that never change where a packet goes. */
const NON_TERMINAL_OBSERVATIONAL: ReadonlySet<string> = new Set(['none', 'LOG', 'NFLOG', 'TRACE', 'CHECKSUM', 'TCPMSS']);

/**
 * quietTail[i]: no rule after position i in this chain can change where the
 * packet goes, and the chain's policy (if built-in) accepts. A source NAT rule
 * is then observational too: whether it matches decides only the rewrite.
 */
function quietTails(rules: readonly Rule[], policy: 'ACCEPT' | 'DROP', builtin: boolean): boolean[] {
  const quiet: boolean[] = new Array<boolean>(rules.length);
  let tail = !builtin || policy === 'ACCEPT';
  for (let i = rules.length - 1; i >= 0; i--) {
    quiet[i] = tail;
    const kind = rules[i]!.target?.kind ?? 'none';
    tail = tail && (NON_TERMINAL_OBSERVATIONAL.has(kind) || kind === 'SNAT' || kind === 'MASQUERADE');
  }
  return quiet;
}
/** The call stack itself never exceeds the chain count (a chain on the stack twice is a loop). */
const MAX_DEPTH = 100_000;
/**
 * Rules a single walk may evaluate. Chain summaries make repeated jumps cheap,
 * but a chain whose mark changes on every pass, or one with an undecidable
 * match (never summarised), can still make a walk exponential in depth (the
 * kernel would do the same work); past the budget the walk stops with an
 * unknown verdict instead of hanging.
 */
const MAX_STEPS = 1_000_000;

export class BranchLimit extends Error {}

/** Replays unknown-match decisions: each run follows the decisions given and records new ones. */
class Decisions {
  readonly taken: boolean[] = [];
  position = 0;
  constructor(readonly prefix: readonly boolean[]) {}
  next(): boolean {
    const choice = this.position < this.prefix.length ? this.prefix[this.position]! : false;
    this.taken.push(choice);
    this.position++;
    return choice;
  }
}

export interface WalkResult {
  readonly verdict: Exclude<Verdict, 'unknown'>;
  readonly reaches: Reach;
  readonly steps: TraceStep[];
  readonly uncertain: { line: number; reason: string }[];
  readonly final: SimPacket;
  readonly decidedBy?: Rule;
  readonly reason: string;
  readonly loop: boolean;
}

export function formatPacket(p: SimPacket): string {
  const proto = p.proto === 6 ? 'tcp' : p.proto === 17 ? 'udp' : p.proto === 132 ? 'sctp' : p.proto === 1 ? 'icmp' : p.proto === 58 ? 'icmpv6' : `proto ${p.proto}`;
  const host = (a: string) => (p.family === 'ipv6' ? `[${a}]` : a);
  const ports = p.proto === 6 || p.proto === 17 || p.proto === 132;
  return ports ? `${proto} ${host(p.src)}:${p.sport} → ${host(p.dst)}:${p.dport}` : `${proto} ${p.src} → ${p.dst}`;
}

export function addressValue(family: Family, text: string): number | bigint {
  return family === 'ipv4' ? (parseIPv4(text) ?? 0) : (parseIPv6(text) ?? 0n);
}

function withDestination(p: SimPacket, dst: string, dport: number | undefined): SimPacket {
  return { ...p, dst, dstValue: addressValue(p.family, dst), dport: dport ?? p.dport, dnatted: true };
}

function withSource(p: SimPacket, src: string, sport: number | undefined): SimPacket {
  return { ...p, src, srcValue: addressValue(p.family, src), sport: sport ?? p.sport, snatted: true };
}

export interface WalkOptions {
  readonly compiled: CompiledRuleset;
  readonly host: HostModel;
  readonly facts: HostFacts;
  /** Collect source sets (exposure refinement). */
  readonly sourceSets?: SourceTest[];
}

/** One deterministic walk under a given sequence of decisions for unknown matches. */
function walkOnce(start: SimPacket, options: WalkOptions, decisions: Decisions): WalkResult {
  const { compiled, host } = options;
  const ctx: EvalContext = { facts: options.facts, sourceSets: options.sourceSets };
  const steps: TraceStep[] = [];
  const uncertain: { line: number; reason: string }[] = [];
  let packet = start;
  let decidedBy: Rule | undefined;
  let loop = false;
  let evaluated = 0;
  const file = compiled.ruleset.file;

  const runChain = (hook: Hook, table: TableName, chains: CompiledTable, entry: CompiledChain): ChainOutcome | undefined => {
    // An explicit stack of (chain, next rule index); goto replaces the top frame.
    // `order` lists the rule positions to visit (all of them unless the chain is indexed).
    const frameOf = (chain: CompiledChain, quietBelow: boolean, summaryKey: string | undefined): Frame => ({
      chain, index: 0, order: chain.index ? candidates(chain.index, packet) : undefined, quietBelow, summaryKey, decisionsAtEntry: decisions.taken.length,
    });
    const stack: Frame[] = [frameOf(entry, true, undefined)];
    const onStack = new Set<string>([entry.name]);
    const summaries = chains.acyclic ? new Map<string, ChainSummary>() : undefined;
    // The summary key also holds quietBelow: it decides which source sets a walk reports.
    const summaryKeyOf = (chain: CompiledChain, quietBelow: boolean) =>
      `${chain.name}\u0000${packet.mark}\u0000${packet.connmark}\u0000${packet.state}\u0000${quietBelow ? 1 : 0}`;
    const leave = (frame: Frame) => {
      onStack.delete(frame.chain.name);
      stack.pop();
      if (summaries && frame.summaryKey !== undefined && decisions.taken.length === frame.decisionsAtEntry) {
        summaries.set(frame.summaryKey, { returned: packet, depth: stack.length });
      }
    };
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const { chain } = frame;
      if (frame.index >= (frame.order ? frame.order.length : chain.rules.length)) {
        if (chain.builtin) {
          steps.push({ hook, table, chain: chain.name, position: 0, line: chain.policyLine, file, rule: `policy ${chain.policy}`, matched: true, action: chain.policy === 'ACCEPT' ? 'policy-accept' : 'policy-drop' });
          if (chain.policy === 'DROP') decidedBy = undefined;
          return chain.policy === 'ACCEPT' ? { kind: 'accept' } : { kind: 'drop' };
        }
        leave(frame);
        continue;
      }
      if (++evaluated > MAX_STEPS) {
        loop = true;
        uncertain.push({ line: 0, reason: `the walk was stopped after ${MAX_STEPS} rule evaluations (jumps that branch repeatedly)` });
        return { kind: 'drop' };
      }
      let ruleIndex = frame.order ? frame.order[frame.index]! : frame.index;
      frame.index++;
      let result: Tri | undefined;
      const run = chain.runs.get(ruleIndex);
      // An index lists a run's rules together (they share their keys); checked, not assumed.
      if (run && (!frame.order || frame.order[frame.index + run.length - 2] === ruleIndex + run.length - 1)) {
        const shared = evaluateRule(run.shared, packet, ctx);
        if (shared === NO) { frame.index += run.length - 1; continue; }
        // Undecidable shared tests are decided rule by rule below, as the kernel meets them.
        if (shared === MATCH) {
          const offset = run.firstMatch(BigInt(packet.srcValue));
          ctx.sourceSets?.push(run);
          if (offset < 0) { frame.index += run.length - 1; continue; }
          ruleIndex += offset;
          frame.index += offset;
          result = MATCH;
        }
      }
      const position = ruleIndex + 1;
      const rule = chain.rules[ruleIndex]!;
      // A run decided it (MATCH) without the rule's own predicates.
      let unknownReasons: readonly string[] = NO_REASONS;
      if (result === undefined) {
        const compiledRule = chain.compiledRule(ruleIndex);
        unknownReasons = compiledRule.unknownReasons;
        // Rules whose outcome cannot change where the packet goes (logging, counting,
        // source NAT) need not split the exposure's source classes.
        const kind = rule.target?.kind ?? 'none';
        const observational = NON_TERMINAL_OBSERVATIONAL.has(kind)
          || (kind === 'SNAT' || kind === 'MASQUERADE') && frame.quietBelow && chain.quietTail[ruleIndex] === true;
        const sourceSets = ctx.sourceSets;
        if (observational) ctx.sourceSets = undefined;
        result = evaluateRule(compiledRule, packet, ctx);
        ctx.sourceSets = sourceSets;
      }
      if (result === NO) continue;
      const target = rule.target;
      const consequential = target !== undefined && target.kind !== 'LOG' && target.kind !== 'NFLOG' && target.kind !== 'TRACE';
      if (result === UNKNOWN) {
        // Only a rule whose target could change the packet's fate makes the verdict uncertain:
        // an undecidable `-m recent --set` or `-m limit -j LOG` does not.
        if (consequential) {
          uncertain.push({ line: rule.span.line, reason: unknownReasons[0] ?? 'a match cannot be decided statically' });
          result = decisions.next() ? MATCH : NO;
          if (result === NO) {
            steps.push(step(hook, table, chain.name, position, rule, 'unknown', 'continue'));
            continue;
          }
        }
      }
      const matched: boolean | 'unknown' = result === UNKNOWN ? 'unknown' : true;
      if (!target) { steps.push(step(hook, table, chain.name, position, rule, matched, 'continue')); continue; }
      switch (target.kind) {
        case 'verdict':
          if (target.name === 'RETURN') {
            steps.push(step(hook, table, chain.name, position, rule, matched, 'return'));
            if (chain.builtin && stack.length === 1) {
              steps.push({ hook, table, chain: chain.name, position: 0, line: chain.policyLine, file, rule: `policy ${chain.policy}`, matched: true, action: chain.policy === 'ACCEPT' ? 'policy-accept' : 'policy-drop' });
              return chain.policy === 'ACCEPT' ? { kind: 'accept' } : { kind: 'drop' };
            }
            leave(frame);
            continue;
          }
          steps.push(step(hook, table, chain.name, position, rule, matched, target.name === 'ACCEPT' ? 'accept' : target.name === 'DROP' ? 'drop' : 'queue'));
          decidedBy = rule;
          return target.name === 'ACCEPT' ? { kind: 'accept' } : target.name === 'DROP' ? { kind: 'drop' } : { kind: 'queue' };
        case 'REJECT':
          steps.push(step(hook, table, chain.name, position, rule, matched, 'reject'));
          decidedBy = rule;
          return { kind: 'reject' };
        case 'chain': {
          const nextNumber = chain.jumps[ruleIndex]!;
          steps.push(step(hook, table, chain.name, position, rule, matched, target.goto ? 'goto' : 'jump'));
          if (nextNumber === NO_CHAIN) continue;
          const next = chains.chain(nextNumber);
          if (onStack.has(next.name) || stack.length > MAX_DEPTH) {
            loop = true;
            uncertain.push({ line: rule.span.line, reason: `jump loop through chain ${next.name}: the kernel refuses such a ruleset` });
            return { kind: 'drop' };
          }
          if (target.goto) {
            // The chain gone to returns where this frame would have: it inherits the frame's summary.
            onStack.delete(chain.name);
            stack[stack.length - 1] = { ...frameOf(next, frame.quietBelow, frame.summaryKey), decisionsAtEntry: frame.decisionsAtEntry };
          } else {
            const quietBelow = frame.quietBelow && chain.quietTail[ruleIndex] === true;
            const key = summaries ? summaryKeyOf(next, quietBelow) : undefined;
            const summary = key === undefined ? undefined : summaries!.get(key);
            if (summary && summary.depth >= stack.length) {
              packet = summary.returned;
              continue;
            }
            stack.push(frameOf(next, quietBelow, key));
          }
          onStack.add(next.name);
          continue;
        }
        case 'DNAT': case 'REDIRECT': {
          if (table !== 'nat') { steps.push(step(hook, table, chain.name, position, rule, matched, 'continue')); continue; }
          let dst = packet.dst;
          let dport: number | undefined;
          if (target.kind === 'DNAT') {
            const range = target.to[0];
            if (range?.addressFrom) dst = range.addressFrom;
            dport = range?.portFrom;
          } else {
            // REDIRECT: to the primary address of the incoming interface (loopback for local packets).
            dst = packet.fromHost ? (packet.family === 'ipv4' ? '127.0.0.1' : '::1') : packet.dst;
            dport = target.toPorts?.from;
          }
          packet = withDestination(packet, dst, dport);
          steps.push({ ...step(hook, table, chain.name, position, rule, matched, target.kind === 'DNAT' ? 'dnat' : 'redirect'), rewrite: formatPacket(packet) });
          return { kind: 'accept' };
        }
        case 'SNAT': case 'MASQUERADE': {
          if (table !== 'nat') { steps.push(step(hook, table, chain.name, position, rule, matched, 'continue')); continue; }
          const range = target.kind === 'SNAT' ? target.to[0] : undefined;
          const src = range?.addressFrom ?? `${packet.outInterface}-address`;
          packet = target.kind === 'SNAT' ? withSource(packet, src, range?.portFrom) : { ...packet, snatted: true };
          steps.push({ ...step(hook, table, chain.name, position, rule, matched, target.kind === 'SNAT' ? 'snat' : 'masquerade'), rewrite: target.kind === 'SNAT' ? formatPacket(packet) : `source masqueraded to the address of ${packet.outInterface}` });
          return { kind: 'accept' };
        }
        case 'MARK':
          packet = { ...packet, mark: ((packet.mark & ~target.operation.mask) ^ target.operation.value) >>> 0 };
          steps.push(step(hook, table, chain.name, position, rule, matched, 'mark'));
          continue;
        case 'CONNMARK': {
          const op = target.operation;
          if (op.op === 'save') packet = { ...packet, connmark: packet.mark };
          else if (op.op === 'restore') packet = { ...packet, mark: packet.connmark };
          else if (op.op === 'xset') packet = { ...packet, connmark: ((packet.connmark & ~op.mask) ^ op.value) >>> 0 };
          steps.push(step(hook, table, chain.name, position, rule, matched, 'mark'));
          continue;
        }
        case 'CT': case 'NOTRACK':
          if (table === 'raw' && (target.kind === 'NOTRACK' || target.notrack)) {
            packet = { ...packet, state: 'UNTRACKED' };
            steps.push(step(hook, table, chain.name, position, rule, matched, 'notrack'));
          } else {
            steps.push(step(hook, table, chain.name, position, rule, matched, 'continue'));
          }
          continue;
        case 'LOG': case 'NFLOG':
          steps.push(step(hook, table, chain.name, position, rule, matched, 'log'));
          continue;
        default:
          steps.push(step(hook, table, chain.name, position, rule, matched, 'continue'));
          if (target.kind === 'other' && ['NFQUEUE', 'TPROXY', 'SYNPROXY', 'TEE', 'CLASSIFY'].includes(target.name)) {
            if (target.name === 'NFQUEUE') {
              uncertain.push({ line: rule.span.line, reason: 'NFQUEUE hands the packet to a userspace program' });
              return { kind: 'queue' };
            }
          }
          continue;
      }
    }
    return undefined;
  };

  function step(hook: Hook, table: TableName, chain: string, position: number, rule: Rule, matched: boolean | 'unknown', action: StepAction): TraceStep {
    return { hook, table, chain, position, line: rule.span.line, file: rule.span.file, rule: `-A ${chain} ${rule.text}`, matched, action };
  }

  /** Runs the tables of one hook; undefined means the packet goes on. */
  const runHook = (hook: Hook): ChainOutcome | undefined => {
    for (const table of TABLES_AT[hook]) {
      if (table === 'nat' && (packet.state !== 'NEW' || !compiled.tracksConnections)) continue;
      const chains = compiled.tables.get(table);
      const entry = chainNamed(chains, hook);
      if (!chains || !entry) continue;
      const outcome = runChain(hook, table, chains, entry);
      if (!outcome || outcome.kind === 'accept') continue;
      return outcome;
    }
    return undefined;
  };

  const finish = (verdict: WalkResult['verdict'], reaches: Reach, reason: string): WalkResult => ({
    verdict, reaches, steps, uncertain, final: packet, decidedBy: verdict === 'accept' ? undefined : decidedBy, reason, loop,
  });

  const stopped = (outcome: ChainOutcome, where: string): WalkResult => {
    const last = steps[steps.length - 1];
    const by = last ? (last.position === 0 ? `the ${last.chain} policy (${last.table})` : `${last.table} ${last.chain} line ${last.line}`) : where;
    if (outcome.kind === 'queue') return finish('drop', { kind: 'none' }, `queued to userspace by ${by}`);
    return finish(outcome.kind === 'reject' ? 'reject' : 'drop', { kind: 'none' }, `${outcome.kind === 'reject' ? 'rejected' : 'dropped'} by ${by}`);
  };

  const deliverOrForward = (): WalkResult => {
    const route = host.route(packet.dst);
    if (route.kind === 'local') {
      packet = { ...packet, outInterface: '' };
      const input = runHook('INPUT');
      if (input) return stopped(input, 'INPUT');
      return finish('accept', { kind: 'host', address: packet.dst, port: portOf(packet), interface: packet.inInterface }, `delivered to the host${portSuffix(packet)}`);
    }
    packet = { ...packet, outInterface: route.interface };
    const forward = runHook('FORWARD');
    if (forward) return stopped(forward, 'FORWARD');
    const post = runHook('POSTROUTING');
    if (post) return stopped(post, 'POSTROUTING');
    if (route.kind === 'bridge') {
      return finish('accept', { kind: 'container', address: packet.dst, port: portOf(packet), interface: route.interface }, `delivered to container ${packet.dst}${portSuffix(packet)} on ${route.interface}`);
    }
    return finish('accept', { kind: 'forward', address: packet.dst, port: portOf(packet), interface: route.interface }, `forwarded out ${route.interface}`);
  };

  if (packet.fromHost) {
    // The OUTPUT hook sees the device of the route taken before nat OUTPUT: a DNAT
    // there re-routes the packet, but only POSTROUTING sees the new device.
    const firstRoute = host.route(packet.dst);
    packet = { ...packet, outInterface: firstRoute.kind === 'local' ? 'lo' : firstRoute.interface };
    const out = runHook('OUTPUT');
    if (out) return stopped(out, 'OUTPUT');
    const route = host.route(packet.dst);
    packet = { ...packet, outInterface: route.kind === 'local' ? 'lo' : route.interface };
    const post = runHook('POSTROUTING');
    if (post) return stopped(post, 'POSTROUTING');
    if (route.kind === 'local') {
      // Looped back through lo: PREROUTING (nat already done for this connection) and INPUT.
      packet = { ...packet, inInterface: 'lo', outInterface: '' };
      const savedState = packet.state;
      packet = { ...packet, state: savedState === 'NEW' ? 'NEW' : savedState };
      for (const table of ['raw', 'mangle'] as const) {
        const chains = compiled.tables.get(table);
        const entry = chainNamed(chains, 'PREROUTING');
        if (!chains || !entry) continue;
        const outcome = runChain('PREROUTING', table, chains, entry);
        if (outcome && outcome.kind !== 'accept') return stopped(outcome, 'PREROUTING');
      }
      for (const table of ['mangle', 'filter', 'security'] as const) {
        const chains = compiled.tables.get(table);
        const entry = chainNamed(chains, 'INPUT');
        if (!chains || !entry) continue;
        const outcome = runChain('INPUT', table, chains, entry);
        if (outcome && outcome.kind !== 'accept') return stopped(outcome, 'INPUT');
      }
      return finish('accept', { kind: 'host', address: packet.dst, port: portOf(packet), interface: 'lo' }, `delivered to the host${portSuffix(packet)}`);
    }
    if (route.kind === 'bridge') {
      return finish('accept', { kind: 'container', address: packet.dst, port: portOf(packet), interface: route.interface }, `delivered to container ${packet.dst}${portSuffix(packet)} on ${route.interface}`);
    }
    return finish('accept', { kind: 'forward', address: packet.dst, port: portOf(packet), interface: route.interface }, `sent out ${route.interface}`);
  }

  // ip6_rcv_core drops ::1 arriving on any device but lo before the PREROUTING hook.
  if (packet.family === 'ipv6' && packet.dst === '::1' && packet.inInterface !== 'lo') {
    return finish('drop', { kind: 'none' }, `dropped by the kernel before netfilter: ::1 is accepted only on lo, not ${packet.inInterface}`);
  }
  const pre = runHook('PREROUTING');
  if (pre) return stopped(pre, 'PREROUTING');
  // The routing decision, after nat PREROUTING (a DNAT of 127.0.0.1 to a container escapes it):
  // 127.0.0.0/8 arriving on another device than lo is a martian destination, unless route_localnet.
  if (packet.family === 'ipv4' && packet.dst.startsWith('127.') && packet.inInterface !== 'lo' && !ctx.facts.routeLocalnet.has(packet.inInterface)) {
    return finish('drop', { kind: 'none' }, `dropped by the kernel's routing: ${packet.dst} arriving on ${packet.inInterface} is a martian destination (route_localnet is off there)`);
  }
  return deliverOrForward();
}

function portOf(p: SimPacket): number | undefined {
  return p.proto === 6 || p.proto === 17 || p.proto === 132 ? p.dport : undefined;
}

function portSuffix(p: SimPacket): string {
  const port = portOf(p);
  return port === undefined ? '' : ` port ${port}`;
}

/**
 * Walks a packet, exploring both outcomes of every undecidable match that
 * matters. The first walk assumes unknown matches do not match.
 */
export function walk(start: SimPacket, options: WalkOptions): { primary: WalkResult; verdict: Verdict; outcomes: WalkResult[]; truncated: boolean } {
  const outcomes: WalkResult[] = [];
  let prefix: boolean[] = [];
  let truncated = false;
  for (;;) {
    const decisions = new Decisions(prefix);
    outcomes.push(walkOnce(start, options, decisions));
    // Next combination: flip the last `false` decision to `true`, drop the rest.
    const taken = decisions.taken;
    let k = taken.length - 1;
    while (k >= 0 && taken[k]) k--;
    if (k < 0) break;
    if (outcomes.length >= MAX_BRANCHES) { truncated = true; break; }
    prefix = [...taken.slice(0, k), true];
  }
  const primary = outcomes[0]!;
  const verdicts = new Set(outcomes.map((o) => o.verdict));
  const loop = outcomes.some((o) => o.loop);
  const verdict: Verdict = loop || truncated || verdicts.size > 1 ? 'unknown' : primary.verdict;
  return { primary, verdict, outcomes, truncated };
}

export function toTrace(result: ReturnType<typeof walk>): Trace {
  const { primary, verdict, outcomes } = result;
  const uncertain = new Map<number, string>();
  for (const o of outcomes) for (const u of o.uncertain) if (!uncertain.has(u.line)) uncertain.set(u.line, u.reason);
  const final = primary.final;
  let reason = primary.reason;
  if (verdict === 'unknown') {
    const kinds = [...new Set(outcomes.map((o) => o.verdict))].join(' or ');
    reason = `${kinds}, depending on matches that cannot be decided statically (${[...uncertain.keys()].map((l) => `line ${l}`).join(', ')})`;
  }
  return {
    verdict,
    reaches: verdict === 'unknown' && primary.verdict !== 'accept' ? { kind: 'none' } : primary.reaches,
    steps: primary.steps,
    uncertain: [...uncertain].map(([line, r]) => ({ line, reason: r })),
    final: {
      family: final.family,
      proto: final.proto === 6 ? 'tcp' : final.proto === 17 ? 'udp' : final.proto === 1 ? 'icmp' : final.proto === 58 ? 'icmpv6' : final.proto === 132 ? 'sctp' : 'other',
      src: final.src, dst: final.dst, sport: final.sport, dport: final.dport,
    },
    decidedBy: primary.decidedBy,
    reason,
  };
}

export function formatAddress(family: Family, value: number | bigint): string {
  return family === 'ipv4' ? formatIPv4(value as number) : formatIPv6(value as bigint);
}

export { MATCH, NO, UNKNOWN };
