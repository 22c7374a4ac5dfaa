// Order analysis of one chain, shared by IPT204 (shadowed-rule) and IPT205
// (redundant-rule): which rules an earlier rule already decides, which are
// exact duplicates, and which a later rule with the same outcome would catch
// anyway.
//
// Cost: rules are indexed (cover-index.ts) by the fields that usually tell them
// apart, so a rule is only compared with the rules that could contain it, not
// with all of them: a 20,000-rule chain runs in near-linear time unless
// thousands of its rules agree on protocol, address and port prefixes,
// interfaces and states and still do not contain each other.

import type { Chain, Family, Rule, Table, Target } from '../../grammar/ast.ts';
import { chainGraph, Effect, type ChainGraph } from './chain-graph.ts';
import { CoverIndex } from './cover-index.ts';
import { covers, disjoint, packetSpace, type PacketSpace } from './packet-space.ts';

/** Modules whose result may differ between two evaluations of the same packet (or whose evaluation changes state). */
const STATEFUL_MODULES: ReadonlySet<string> = new Set([
  'limit', 'hashlimit', 'recent', 'statistic', 'quota', 'connlimit', 'nfacct', 'set', 'connlabel', 'rateest', 'condition', 'xor',
]);

/** A match whose evaluation may change state, or whose result may change between evaluations. */
export function hasStatefulMatch(rule: Rule): boolean {
  return rule.matches.some((m) => m.kind === 'unknown' || STATEFUL_MODULES.has(m.module));
}

/** What a terminating rule does with a packet, as comparable text (`ACCEPT`, `REJECT --reject-with …`, `-g X`). */
export function outcomeOf(target: Target): string {
  const options = target.options.map((o) => `${o.negated ? '! ' : ''}${o.name} ${o.values.join(' ')}`).join(' ');
  const name = target.kind === 'chain' ? `${target.goto ? '-g' : '-j'} ${target.chain}`
    : target.kind === 'verdict' || target.kind === 'other' ? target.name : target.kind;
  return options ? `${name} ${options}` : name;
}

export interface ChainOrder {
  /** Rule index → index of the earlier terminating rule that matches every packet it could match. */
  readonly shadowedBy: ReadonlyMap<number, number>;
  /** Rule index → index of an identical earlier rule that already decides its packets. */
  readonly duplicateOf: ReadonlyMap<number, number>;
  /** Rule index → index of the later rule with the same outcome that would decide its packets. */
  readonly subsumedBy: ReadonlyMap<number, number>;
}

/** At most this many differently-deciding rules are checked between a rule and the later one that subsumes it. */
const MAX_INTERVENING_CHECKS = 64;

/**
 * At most this many indexed candidates are compared with one rule. Only reached when hundreds of rules
 * agree on every indexed field without containing each other; past it a cover may be missed (never invented).
 */
const MAX_CANDIDATES = 256;

const NOTHING: ChainOrder = { shadowedBy: new Map(), duplicateOf: new Map(), subsumedBy: new Map() };

function analyseChain(graph: ChainGraph, chain: Chain, family: Family): ChainOrder {
  const rules = chain.rules;
  if (rules.length < 2) return NOTHING;
  // Packet spaces are built on demand: most rules of a big chain never need one.
  const built: (PacketSpace | undefined)[] = new Array(rules.length);
  const spaceAt = (i: number) => (built[i] ??= packetSpace(rules[i]!, family));
  const terminates = rules.map((r) => graph.terminates(r));
  // A terminating rule's effects only touch packets that never reach a later rule.
  const effects = rules.map((r, i) => (terminates[i] ? Effect.none : graph.ruleEffects(r)));
  const shadowedBy = new Map<number, number>();
  const duplicateOf = new Map<number, number>();
  const subsumedBy = new Map<number, number>();

  // Forward pass: earlier terminating rules that cover later ones.
  // Marks are never modelled (a rule testing one cannot cover), so MARK and CONNMARK change nothing here;
  // CT/NOTRACK invalidate earlier rules that read conntrack, anything else that rewrites packets all of them.
  const earlier = new CoverIndex(family);
  let conntrackChangedAt = -1;
  for (let i = 0; i < rules.length; i++) {
    const space = earlier.size > 0 || terminates[i] ? spaceAt(i) : undefined;
    if (space && !space.empty && earlier.size > 0) {
      let best: number | undefined;
      let budget = MAX_CANDIDATES;
      for (const bucket of earlier.candidates(space)) {
        for (const entry of bucket) {
          if ((best !== undefined && entry.position >= best) || budget-- <= 0) break;
          if (entry.space.readsConntrack && entry.position < conntrackChangedAt) continue;
          if (covers(entry.space, space)) { best = entry.position; break; }
        }
      }
      if (best !== undefined) shadowedBy.set(i, best);
    }
    const effect = effects[i]!;
    if (effect & Effect.packet) earlier.clear();
    else if (effect & Effect.conntrack) conntrackChangedAt = i;
    if (terminates[i] && space!.canCover && !shadowedBy.has(i)) earlier.add(space!, i);
  }

  // Exact duplicates whose earlier copy decides the same packets (no state change in between).
  const lastByText = new Map<string, number>();
  let lastEffect = -1;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const previous = lastByText.get(rule.text);
    if (previous !== undefined && previous > lastEffect && terminates[i] && !shadowedBy.has(i) && !hasStatefulMatch(rule)) {
      duplicateOf.set(i, previous);
    }
    lastByText.set(rule.text, i);
    if (effects[i] !== Effect.none) lastEffect = i;
  }

  // Backward pass: a rule whose packets all reach a later rule with the same outcome.
  const outcome = rules.map((r, i) => (terminates[i] && r.target && !hasStatefulMatch(r) ? outcomeOf(r.target) : `#${i}`));
  const nextDifferent = new Array<number>(rules.length + 1).fill(rules.length);
  for (let i = rules.length - 2; i >= 0; i--) nextDifferent[i] = outcome[i] === outcome[i + 1] ? nextDifferent[i + 1]! : i + 1;
  const later = new Map<string, CoverIndex>();
  for (let i = rules.length - 1; i >= 0; i--) {
    const key = outcome[i]!;
    if (key.startsWith('#')) continue;
    const space = spaceAt(i);
    const eligible = !space.empty && !shadowedBy.has(i) && !duplicateOf.has(i);
    const index = later.get(key);
    if (eligible && index) {
      let nearest: number | undefined;
      let budget = MAX_CANDIDATES;
      for (const bucket of index.candidates(space)) {
        // Buckets hold later rules nearest-last (filled walking backwards).
        for (let k = bucket.length - 1; k >= 0; k--) {
          const entry = bucket[k]!;
          if ((nearest !== undefined && entry.position >= nearest) || budget-- <= 0) break;
          if (covers(entry.space, space)) { nearest = entry.position; break; }
        }
      }
      if (nearest !== undefined && noOtherOutcomeBetween(i, nearest, outcome, nextDifferent, spaceAt)) subsumedBy.set(i, nearest);
    }
    // A shadowed rule never decides anything, so it cannot be the one that would catch an earlier rule's packets.
    if (space.canCover && !shadowedBy.has(i)) {
      let list = later.get(key);
      if (!list) { list = new CoverIndex(family); later.set(key, list); }
      list.add(space, i);
    }
  }
  return { shadowedBy, duplicateOf, subsumedBy };
}

/**
 * Between `from` and `to`, every rule that decides differently from `from`
 * cannot match any of `from`'s packets. Runs of the same outcome are skipped;
 * past MAX_INTERVENING_CHECKS different rules the answer is "don't know" (false).
 */
function noOtherOutcomeBetween(
  from: number, to: number, outcome: readonly string[], nextDifferent: readonly number[], spaceAt: (i: number) => PacketSpace,
): boolean {
  const wanted = outcome[from]!;
  let checks = 0;
  let p = from + 1;
  while (p < to) {
    if (outcome[p] === wanted) { p = nextDifferent[p]!; continue; }
    if (++checks > MAX_INTERVENING_CHECKS) return false;
    if (!disjoint(spaceAt(p), spaceAt(from))) return false;
    p++;
  }
  return true;
}

const analyses = new WeakMap<Chain, ChainOrder>();

/** The order analysis of a chain (cached per chain object). */
export function chainOrder(table: Table, chain: Chain, family: Family): ChainOrder {
  let order = analyses.get(chain);
  if (!order) {
    order = analyseChain(chainGraph(table), chain, family);
    analyses.set(chain, order);
  }
  return order;
}
