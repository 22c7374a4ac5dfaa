// An index of rules that may cover later (or earlier) rules, so that finding
// "some indexed rule whose packets include all of this rule's packets" looks
// at a handful of candidates instead of every rule of the chain.
//
// Each indexed rule is filed under keys on every level: its protocol; for
// addresses and ports, the smallest prefix enclosing each interval of its set
// (a multiport rule with ports 80 and 443 is filed under both); its exact
// interfaces; its conntrack states ("*" when the rule does not restrict that
// field). A rule B can only be covered by A when B's first interval lies in
// one interval of A, so on every level A's key is "*" or encloses the prefix of
// B's first interval: a look-up walks just those branches.

import type { Family } from '../../grammar/ast.ts';
import { bitsOf } from '../../src/model/addrset.ts';
import type { PacketSpace } from './packet-space.ts';

export interface IndexEntry {
  readonly space: PacketSpace;
  readonly position: number;
}

interface Level {
  /** The keys a covering rule is filed under. */
  keysOf(space: PacketSpace): readonly string[];
  /** The keys (among `present`) under which a rule covering `space` may be filed. */
  lookup(space: PacketSpace, present: Map<string, unknown>): Iterable<string>;
}

const ANY = '*';

function exactInterface(i: PacketSpace['inInterface']): string | undefined {
  return i && !i.negated && !i.wildcard ? i.name : undefined;
}

type Prefix = { readonly length: number; readonly base: bigint };

/** Past this many intervals a set is filed under the prefix enclosing all of it. */
const MAX_KEYS_PER_LEVEL = 4;

class PrefixLevel implements Level {
  private readonly lengths = new Set<number>();

  constructor(
    /** The prefix enclosing each interval of the field's set (undefined: not indexed on this field). */
    private readonly intervals: (space: PacketSpace) => readonly Prefix[] | undefined,
    /** The prefix enclosing the whole set. */
    private readonly whole: (space: PacketSpace) => Prefix | undefined,
    private readonly bits: number,
  ) {}

  keysOf(space: PacketSpace): readonly string[] {
    const each = this.intervals(space);
    const prefixes = each && each.length <= MAX_KEYS_PER_LEVEL ? each : [this.whole(space)];
    const keys = new Set<string>();
    for (const prefix of prefixes) {
      if (!prefix || prefix.length === 0) return [ANY];
      this.lengths.add(prefix.length);
      keys.add(`${prefix.length}/${prefix.base}`);
    }
    return [...keys];
  }

  lookup(space: PacketSpace): string[] {
    const keys = [ANY];
    if (this.lengths.size === 0) return keys;
    const prefix = this.intervals(space)?.[0];
    if (!prefix) return keys;
    for (const length of this.lengths) {
      if (length > prefix.length) continue;
      const host = BigInt(this.bits - length);
      keys.push(`${length}/${(prefix.base >> host) << host}`);
    }
    return keys;
  }
}

class ExactLevel implements Level {
  constructor(private readonly value: (space: PacketSpace) => string | undefined) {}

  keysOf(space: PacketSpace): readonly string[] {
    return [this.value(space) ?? ANY];
  }

  lookup(space: PacketSpace): string[] {
    const value = this.value(space);
    return value === undefined ? [ANY] : [value, ANY];
  }
}

const ALL_STATES = 31;

class StateLevel implements Level {
  keysOf(space: PacketSpace): readonly string[] {
    return [space.states === ALL_STATES ? ANY : String(space.states)];
  }

  *lookup(space: PacketSpace, present: Map<string, unknown>): Iterable<string> {
    for (const key of present.keys()) {
      if (key === ANY || (space.states & ~Number(key)) === 0) yield key;
    }
  }
}

/** A node keeps its entries in a list until it holds more than this, then splits them by its level's keys. */
const BURST = 16;

interface Node {
  entries?: IndexEntry[];
  children?: Map<string, Node>;
}

export class CoverIndex {
  private root: Node = { entries: [] };
  private readonly levels: readonly Level[];
  size = 0;

  constructor(family: Family) {
    const bits = bitsOf(family);
    this.levels = [
      new ExactLevel((s) => (s.protocol.is !== undefined ? String(s.protocol.is) : undefined)),
      new PrefixLevel((s) => s.source.intervals.map((i) => enclosingPrefix(i, bits)), (s) => wholePrefix(s.source.intervals, bits), bits),
      new PrefixLevel((s) => s.destination.intervals.map((i) => enclosingPrefix(i, bits)), (s) => wholePrefix(s.destination.intervals, bits), bits),
      new PrefixLevel((s) => portPrefixes(s, s.destinationPorts), (s) => portWhole(s, s.destinationPorts), 16),
      new PrefixLevel((s) => portPrefixes(s, s.sourcePorts), (s) => portWhole(s, s.sourcePorts), 16),
      new ExactLevel((s) => exactInterface(s.inInterface)),
      new ExactLevel((s) => exactInterface(s.outInterface)),
      new StateLevel(),
    ];
  }

  add(space: PacketSpace, position: number): void {
    this.size++;
    this.insert(this.root, 0, { space, position });
  }

  private insert(node: Node, depth: number, entry: IndexEntry): void {
    if (node.entries) {
      node.entries.push(entry);
      if (node.entries.length <= BURST || depth === this.levels.length) return;
      // Split: re-file the entries (in their order) one level down.
      const entries = node.entries;
      node.entries = undefined;
      node.children = new Map();
      for (const e of entries) this.insertChildren(node, depth, e);
      return;
    }
    this.insertChildren(node, depth, entry);
  }

  private insertChildren(node: Node, depth: number, entry: IndexEntry): void {
    for (const key of this.levels[depth]!.keysOf(entry.space)) {
      let child = node.children!.get(key);
      if (!child) { child = { entries: [] }; node.children!.set(key, child); }
      this.insert(child, depth + 1, entry);
    }
  }

  /** Forgets every entry. */
  clear(): void {
    this.root = { entries: [] };
    this.size = 0;
  }

  /** The lists whose entries may cover `space`; each keeps insertion order, and an entry may be in several. */
  candidates(space: PacketSpace): IndexEntry[][] {
    const out: IndexEntry[][] = [];
    const walk = (node: Node, depth: number) => {
      if (node.entries) {
        if (node.entries.length > 0) out.push(node.entries);
        return;
      }
      for (const key of this.levels[depth]!.lookup(space, node.children!)) {
        const child = node.children!.get(key);
        if (child) walk(child, depth + 1);
      }
    };
    if (this.size > 0) walk(this.root, 0);
    return out;
  }
}

/** The smallest prefix of a `bits`-wide space holding the interval [from, to]. */
export function enclosingPrefix(interval: readonly [bigint, bigint], bits: number): Prefix {
  const diff = interval[0] ^ interval[1];
  const length = diff === 0n ? bits : bits - diff.toString(2).length;
  const host = BigInt(bits - length);
  return { length, base: (interval[0] >> host) << host };
}

function wholePrefix(intervals: readonly (readonly [bigint, bigint])[], bits: number): Prefix | undefined {
  const first = intervals[0];
  const last = intervals[intervals.length - 1];
  return first && last ? enclosingPrefix([first[0], last[1]], bits) : undefined;
}

// multiport --ports tests either port: such a rule is not indexed on ports.
function portPrefixes(space: PacketSpace, set: PacketSpace['sourcePorts']): Prefix[] | undefined {
  if (space.eitherPorts.length > 0) return undefined;
  return set.map(([a, b]) => enclosingPrefix([BigInt(a), BigInt(b)], 16));
}

function portWhole(space: PacketSpace, set: PacketSpace['sourcePorts']): Prefix | undefined {
  if (space.eitherPorts.length > 0) return undefined;
  const first = set[0];
  const last = set[set.length - 1];
  return first && last ? enclosingPrefix([BigInt(first[0]), BigInt(last[1])], 16) : undefined;
}
