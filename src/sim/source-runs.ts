// Blocklists: runs of consecutive rules that differ only by their source
// (`-s A -j DROP`, `-s B -j DROP`, …) are one set-membership test.
//
// Rule by rule, a walk through a run of n rules costs n evaluations, and the
// exposure refinement splits the source space at every one of them and walks
// each piece again from the start: n² for a blocklist. As one test, a walk
// looks up the first rule of the run whose source holds the packet's source
// (the only one that can decide, since the rules share their target), and the
// refinement cuts a class in one go into the sources with the same first rule:
// one class per rule that can decide, and one for the sources none of them holds.

import type { Family, Rule, Target } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import { compileRule, type CompiledRule, type SourcePartition } from './compile.ts';

/** Shorter runs are cheap rule by rule; their classes then split as they always did. */
export const MIN_RUN = 8;

export interface SourceRun extends SourcePartition {
  /** How many rules, from this position on, the run holds. */
  readonly length: number;
  /** The tests the run's rules share: everything but the source. */
  readonly shared: CompiledRule;
  /** The offset in the run of the first rule whose source holds `value`, or -1. */
  firstMatch(value: bigint): number;
}

/** Targets after which nothing else in the chain runs: the first rule of the run that matches is the only one that acts. */
function ends(target: Target | undefined): boolean {
  return target !== undefined && (target.kind === 'verdict' || target.kind === 'REJECT');
}

/** The rule's text without its source, when its text starts with the source as the printer writes it. */
function restOf(rule: Rule): string | undefined {
  const s = rule.source;
  // A dotted mask's set may be approximated (AddressSet.masked); the rule's own test is not.
  if (!s || s.prefixLength === -1 || !ends(rule.target)) return undefined;
  const spec = `${s.negated ? '! ' : ''}-s ${s.prefixLength === -1 ? `${s.address}/${s.mask}` : `${s.address}/${s.prefixLength}`}`;
  if (!rule.text.startsWith(spec) || (rule.text.length > spec.length && rule.text[spec.length] !== ' ')) return undefined;
  return rule.text.slice(spec.length);
}

/** Runs of at least MIN_RUN rules, by the position of their first rule. */
export function findSourceRuns(family: Family, rules: readonly Rule[]): ReadonlyMap<number, SourceRun> {
  const runs = new Map<number, SourceRun>();
  let start = 0;
  while (start < rules.length) {
    const key = restOf(rules[start]!);
    let end = start + 1;
    if (key !== undefined) while (end < rules.length && restOf(rules[end]!) === key) end++;
    if (key !== undefined && end - start >= MIN_RUN) runs.set(start, buildRun(family, rules.slice(start, end)));
    start = end;
  }
  return runs;
}

function buildRun(family: Family, rules: readonly Rule[]): SourceRun {
  const sets = rules.map((r) => AddressSet.fromMatch(family, r.source));
  const { starts, labels } = firstMatchSegments(sets);
  const max = (1n << BigInt(family === 'ipv4' ? 32 : 128)) - 1n;
  /** The segment holding `value`. */
  const segmentOf = (value: bigint): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= value) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
  return {
    length: rules.length,
    shared: compileRule(family, { ...rules[0]!, source: undefined }),
    firstMatch: (value) => labels[segmentOf(value)]!,
    partition(sources) {
      const byLabel = new Map<number, [bigint, bigint][]>();
      for (const [from, to] of sources.intervals) {
        for (let k = segmentOf(from); k < starts.length && starts[k]! <= to; k++) {
          const end = k + 1 < starts.length ? starts[k + 1]! - 1n : max;
          const part: [bigint, bigint] = [from > starts[k]! ? from : starts[k]!, to < end ? to : end];
          const list = byLabel.get(labels[k]!);
          if (list) list.push(part); else byLabel.set(labels[k]!, [part]);
        }
      }
      if (byLabel.size <= 1) return [sources];
      return [...byLabel.values()].map((intervals) => AddressSet.fromIntervals(family, intervals));
    },
  };
}

/**
 * The address space cut where the first set holding an address changes: segment k runs from
 * starts[k] to the next start, and labels[k] is the index of the first set holding it (-1: none).
 * A sweep over the sets' interval ends with a heap of the sets open at each point.
 */
function firstMatchSegments(sets: readonly AddressSet[]): { starts: bigint[]; labels: number[] } {
  const events: { at: bigint; set: number; open: boolean }[] = [];
  sets.forEach((set, k) => {
    for (const [from, to] of set.intervals) {
      events.push({ at: from, set: k, open: true }, { at: to + 1n, set: k, open: false });
    }
  });
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const open = new Uint8Array(sets.length);
  const heap = new MinHeap();
  const starts: bigint[] = [0n];
  const labels: number[] = [-1];
  let e = 0;
  while (e < events.length) {
    const at = events[e]!.at;
    for (; e < events.length && events[e]!.at === at; e++) {
      const { set, open: opens } = events[e]!;
      open[set] = opens ? 1 : 0;
      if (opens) heap.push(set);
    }
    while (heap.size > 0 && open[heap.peek()] === 0) heap.pop();
    const label = heap.size > 0 ? heap.peek() : -1;
    if (label === labels[labels.length - 1]) continue;
    if (starts[starts.length - 1] === at) {
      labels[labels.length - 1] = label;
      // Setting the label may have made this segment continue the previous one.
      if (labels.length > 1 && labels[labels.length - 2] === label) { starts.pop(); labels.pop(); }
    } else {
      starts.push(at);
      labels.push(label);
    }
  }
  return { starts, labels };
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0]!;
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }
  pop(): void {
    const items = this.items;
    const last = items.pop()!;
    if (items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
  }
}
