// Compares what two snapshots of one host let in, family by family: for every
// target and interface, the sources that gained or lost access, each change
// proved by one witness packet walked through both snapshots, and the rules
// that decide those witnesses differently.

import type { Family, Ruleset } from '../../grammar/ast.ts';
import { AddressSet, bigintToAddress } from '../model/addrset.ts';
import type { RulesetSimulator } from '../sim/index.ts';
import type { L4Protocol, Packet, Trace } from '../sim/types.ts';
import {
  conditionsFor, OTHER_INTERFACE, OTHER_INTERFACE_NAME, planQuestions, probeFor, reachability, type InterfaceReach, type SourceClass, type TargetReach,
} from './reachability.ts';
import { decidingStep } from './decide.ts';
import { interfaceLabel, sourcesText, targetLabel } from './labels.ts';
import type { Change, ChangeKind, Decider, RuleEffect, Target, WitnessWalk } from './types.ts';

export interface FamilyDiff {
  readonly changes: readonly Change[];
  readonly ruleEffects: readonly RuleEffect[];
}

const WITNESS_SOURCE_PORT = 40000;

/** `-m comment --comment …` says nothing about what a rule does: rules differing only there are the same rule. */
export function ruleIdentity(table: string, chain: string, text: string): string {
  return `${table} ${chain} ${withoutComments(text).trim()}`;
}

const COMMENT_OPTION = '-m comment --comment ';
const isBlank = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const isLineTerminator = (c: string | undefined): boolean => c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029';

/**
 * The text without its `-m comment --comment VALUE` options and the blanks before each, as
 * `text.replace(/\s*-m comment --comment (?:"(?:[^"\\]|\\.)*"|\S+)/g, '')` would remove them —
 * found with indexOf instead, since that regex's leading `\s*` restarts at every blank of a run.
 */
function withoutComments(text: string): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf(COMMENT_OPTION); at !== -1; at = text.indexOf(COMMENT_OPTION, at + 1)) {
    const end = commentValueEnd(text, at + COMMENT_OPTION.length);
    if (end === -1) continue;
    let start = at;
    while (start > copied && isBlank(text[start - 1])) start--;
    out += text.slice(copied, start);
    copied = end;
    at = end - 1;
  }
  return out + text.slice(copied);
}

/** Where the comment's value starting at `from` ends: a quoted string with backslash escapes, else a word; -1 for neither. */
function commentValueEnd(text: string, from: number): number {
  if (text[from] === '"') {
    for (let i = from + 1; i < text.length; i++) {
      const c = text[i];
      if (c === '"') return i + 1;
      if (c === '\\') {
        if (i + 1 >= text.length || isLineTerminator(text[i + 1])) break;
        i++;
      }
    }
  }
  let end = from;
  while (end < text.length && !isBlank(text[end])) end++;
  return end > from ? end : -1;
}

function decider(trace: Trace): Decider | undefined {
  const step = trace.steps[decidingStep(trace)];
  if (!step) return undefined;
  return { table: step.table, chain: step.chain, rule: step.rule, line: step.line, file: step.file };
}

function deciderIdentity(d: Decider): string {
  return ruleIdentity(d.table, d.chain, d.rule.replace(/^-A \S+ /, ''));
}

function walkWitness(sim: RulesetSimulator | undefined, packet: Packet): WitnessWalk | undefined {
  if (!sim) return undefined;
  const trace = sim.trace(packet);
  return { verdict: trace.verdict, reason: trace.reason, decidedBy: decider(trace), steps: trace.steps };
}

export function sampleAddress(family: Family, set: AddressSet): string {
  // The middle of the first range: a typical member, not the network address.
  const cidr = set.toCidrs()[0]!;
  const [address, prefixText] = cidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefix >= bits - 1) return address;
  const first = AddressSet.cidr(family, address, prefix).sample()!;
  const half = 1n << BigInt(bits - prefix - 1);
  // A little past the middle (…0.5 rather than …0.0) reads as a host, while staying inside the range.
  return bigintToAddress(family, first + half + (half > 8n ? 5n : 0n));
}

function witnessPacket(family: Family, target: Target, iface: string, src: string, dst: string, dport: number): Packet {
  return {
    family, proto: target.proto as L4Protocol, src, dst, sport: WITNESS_SOURCE_PORT, dport, state: 'NEW',
    inInterface: iface === OTHER_INTERFACE ? OTHER_INTERFACE_NAME : iface,
  };
}

function emptyReach(family: Family): InterfaceReach {
  return { accepted: AddressSet.empty(family), uncertain: AddressSet.empty(family), classes: [] };
}

interface Movement {
  readonly kind: ChangeKind;
  readonly sources: AddressSet;
  /** The reach whose classes hold the moved sources (new for widening, old for narrowing), and which of its classes show it. */
  readonly from: InterfaceReach;
  readonly shownBy: (cls: SourceClass) => boolean;
  /** The reach whose undecidable rules the sources' access depended on, for the conditional kinds. */
  readonly conditionsFrom?: InterfaceReach;
}

const ACCEPTED = (cls: SourceClass) => cls.accepted;
const CERTAIN = (cls: SourceClass) => cls.accepted && !cls.uncertain;

function movements(oldReach: InterfaceReach, newReach: InterfaceReach): Movement[] {
  const out: Movement[] = [];
  const before = oldReach.accepted;
  const after = newReach.accepted;
  const gained = after.subtract(before);
  const lost = before.subtract(after);
  if (!gained.isEmpty()) out.push({ kind: before.isEmpty() ? 'newly-reachable' : 'widened', sources: gained, from: newReach, shownBy: ACCEPTED });
  if (!lost.isEmpty()) out.push({ kind: after.isEmpty() ? 'no-longer-reachable' : 'narrowed', sources: lost, from: oldReach, shownBy: ACCEPTED });
  // Reachable on both sides, but only depending on undecidable matches on one of them.
  const unconditional = oldReach.uncertain.intersect(after.subtract(newReach.uncertain));
  const conditional = newReach.uncertain.intersect(before.subtract(oldReach.uncertain));
  if (!unconditional.isEmpty()) out.push({ kind: 'now-unconditional', sources: unconditional, from: newReach, shownBy: CERTAIN, conditionsFrom: oldReach });
  if (!conditional.isEmpty()) out.push({ kind: 'now-conditional', sources: conditional, from: oldReach, shownBy: CERTAIN, conditionsFrom: newReach });
  return out;
}

/** Where a rule (or policy) sits in a ruleset, by identity; undefined when it is not there. */
function locate(ruleset: Ruleset | undefined, d: Decider): number | undefined {
  if (!ruleset) return undefined;
  const table = ruleset.tables.find((t) => t.name === d.table);
  const chain = table?.chains.find((c) => c.name === d.chain);
  if (!chain) return undefined;
  const policy = /^policy (\S+)$/.exec(d.rule);
  if (policy) return chain.policy === policy[1] ? (chain.span?.line ?? 0) : undefined;
  const wanted = deciderIdentity(d);
  return chain.rules.find((r) => ruleIdentity(r.table, r.chain, r.text) === wanted)?.span.line;
}

function verb(walk: WitnessWalk): string {
  return walk.verdict === 'accept' ? 'lets in' : walk.verdict === 'unknown' ? 'may stop' : 'stops';
}

/** Rules added or removed explain a change best; rules present in both follow. */
const PRESENCE_ORDER = { added: 0, removed: 1, both: 2 } as const;

function ruleEffects(changes: readonly Change[], oldRuleset: Ruleset | undefined, newRuleset: Ruleset | undefined): RuleEffect[] {
  const effects = new Map<string, { d: Decider; stopped: string[]; started: string[] }>();
  const entry = (d: Decider) => {
    const id = deciderIdentity(d);
    let e = effects.get(id);
    if (!e) { e = { d, stopped: [], started: [] }; effects.set(id, e); }
    return e;
  };
  for (const change of changes) {
    const oldD = change.old?.decidedBy;
    const newD = change.new?.decidedBy;
    if (oldD && newD && deciderIdentity(oldD) === deciderIdentity(newD) && change.old!.verdict === change.new!.verdict) continue;
    const what = `${targetLabel(change.target)} from ${sourcesText(change.family, change.sources)} on ${interfaceLabel(change.interface)}`;
    if (oldD) entry(oldD).stopped.push(`${verb(change.old!)} ${what}`);
    if (newD) entry(newD).started.push(`${verb(change.new!)} ${what}`);
  }
  return [...effects.values()].map(({ d, stopped, started }) => {
    const oldLine = locate(oldRuleset, d);
    const newLine = locate(newRuleset, d);
    return {
      table: d.table, chain: d.chain, rule: d.rule,
      ...(oldLine !== undefined ? { oldLine } : {}),
      ...(newLine !== undefined ? { newLine } : {}),
      presence: oldLine !== undefined && newLine !== undefined ? 'both' : newLine !== undefined ? 'added' : 'removed',
      stoppedDeciding: [...new Set(stopped)], startedDeciding: [...new Set(started)],
    } satisfies RuleEffect;
  }).sort((a, b) => PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence]
    || (a.table + a.chain + a.rule < b.table + b.chain + b.rule ? -1 : a.table + a.chain + a.rule > b.table + b.chain + b.rule ? 1 : 0));
}

const CATEGORY_ORDER = { published: 0, direct: 1, host: 2 } as const;

/** Diffs one family. Either side may be missing (a family only one snapshot holds): it then reaches nothing. */
export function diffFamily(family: Family, oldSim: RulesetSimulator | undefined, newSim: RulesetSimulator | undefined, externalInterfaces: readonly string[]): FamilyDiff {
  const sims = [oldSim, newSim].filter((s): s is RulesetSimulator => s !== undefined);
  const plan = planQuestions(family, sims, externalInterfaces);
  const before = oldSim ? reachability(oldSim, plan) : new Map<string, TargetReach>();
  const after = newSim ? reachability(newSim, plan) : new Map<string, TargetReach>();
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const changes: Change[] = [];
  for (const key of keys) {
    const oldTarget = before.get(key);
    const newTarget = after.get(key);
    const target = (newTarget ?? oldTarget)!.target;
    for (const iface of plan.interfaces) {
      const oldReach = oldTarget?.byInterface.get(iface) ?? emptyReach(family);
      const newReach = newTarget?.byInterface.get(iface) ?? emptyReach(family);
      for (const move of movements(oldReach, newReach)) {
        const probe = probeFor(move.from, move.sources, move.shownBy);
        const dst = probe?.dst ?? target.address;
        const dport = probe?.dport ?? target.port;
        const witness = witnessPacket(family, target, iface, sampleAddress(family, probe?.sample ?? move.sources), dst, dport);
        const oldWalk = walkWitness(oldSim, witness);
        const newWalk = walkWitness(newSim, witness);
        const conditions = move.conditionsFrom ? conditionsFor(move.conditionsFrom, move.sources) : undefined;
        changes.push({
          kind: move.kind, family, target, interface: iface, sources: move.sources.toCidrs(),
          before: oldReach.accepted.toCidrs(), after: newReach.accepted.toCidrs(), ...(conditions ? { conditions } : {}), witness,
          ...(oldWalk ? { old: oldWalk } : {}), ...(newWalk ? { new: newWalk } : {}),
        });
      }
    }
  }
  changes.sort((a, b) => CATEGORY_ORDER[a.target.category] - CATEGORY_ORDER[b.target.category]
    || (a.target.key < b.target.key ? -1 : a.target.key > b.target.key ? 1 : 0)
    || plan.interfaces.indexOf(a.interface) - plan.interfaces.indexOf(b.interface)
    || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { changes, ruleEffects: ruleEffects(changes, oldSim?.compiled.ruleset, newSim?.compiled.ruleset) };
}
