// Immutable sets of addresses as sorted, disjoint, inclusive intervals, and
// their minimal CIDR cover. Both families use bigint so one implementation
// serves IPv4 and IPv6; the sets the analysis builds have few intervals.

import type { AddressMatch, Family } from '../../grammar/ast.ts';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../grammar/address.ts';

type Interval = readonly [bigint, bigint];

export function bitsOf(family: Family): number {
  return family === 'ipv4' ? 32 : 128;
}

export function addressToBigint(family: Family, text: string): bigint | undefined {
  if (family === 'ipv4') {
    const v = parseIPv4(text);
    return v === undefined ? undefined : BigInt(v);
  }
  return parseIPv6(text);
}

export function bigintToAddress(family: Family, value: bigint): string {
  return family === 'ipv4' ? formatIPv4(Number(value)) : formatIPv6(value);
}

/** Past this many free bits above a dotted mask's lowest set bit, its 2^n intervals are approximated. */
const MAX_MASK_FREE_BITS = 16;

/** A mask's lowest set bit (`bits` when none) and its clear bits above it. */
function maskShape(mask: bigint, bits: number): { readonly low: number; readonly freeHigh: readonly number[] } {
  let low = 0;
  while (low < bits && ((mask >> BigInt(low)) & 1n) === 0n) low++;
  const freeHigh: number[] = [];
  for (let b = low; b < bits; b++) if (((mask >> BigInt(b)) & 1n) === 0n) freeHigh.push(b);
  return { low, freeHigh };
}

export class AddressSet {
  private constructor(readonly family: Family, readonly intervals: readonly Interval[]) {}

  static empty(family: Family): AddressSet {
    return new AddressSet(family, []);
  }

  static all(family: Family): AddressSet {
    return new AddressSet(family, [[0n, (1n << BigInt(bitsOf(family))) - 1n]]);
  }

  static range(family: Family, from: bigint, to: bigint): AddressSet {
    return from > to ? AddressSet.empty(family) : new AddressSet(family, [[from, to]]);
  }

  /** Any inclusive intervals, in any order, overlapping or not. */
  static fromIntervals(family: Family, intervals: readonly Interval[]): AddressSet {
    return AddressSet.empty(family).union(new AddressSet(family, intervals));
  }

  static cidr(family: Family, address: string, prefixLength: number): AddressSet {
    const base = addressToBigint(family, address);
    if (base === undefined) return AddressSet.empty(family);
    const hostBits = BigInt(bitsOf(family) - prefixLength);
    const start = (base >> hostBits) << hostBits;
    return new AddressSet(family, [[start, start + (1n << hostBits) - 1n]]);
  }

  /** `10.0.0.0/8`, `fe80::/10`, `192.0.2.1` (a host). Unparseable entries are ignored. */
  static fromCidrs(family: Family, cidrs: readonly string[]): AddressSet {
    let set = AddressSet.empty(family);
    for (const cidr of cidrs) {
      const [address, prefix] = cidr.split('/');
      if (!address) continue;
      if ((family === 'ipv6') !== address.includes(':')) continue;
      set = set.union(AddressSet.cidr(family, address, prefix === undefined ? bitsOf(family) : Number(prefix)));
    }
    return set;
  }

  /** The set an `-s`/`-d` match selects (negation applied), exact also for masks that are not a prefix. */
  static fromMatch(family: Family, match: AddressMatch | undefined): AddressSet {
    if (!match) return AddressSet.all(family);
    const set = match.prefixLength === -1 && match.mask
      ? AddressSet.masked(family, match.address, match.mask)
      : AddressSet.cidr(family, match.address, match.prefixLength);
    return match.negated ? set.complement() : set;
  }

  /**
   * {x : x & mask = address & mask} for any mask (`10.0.0.0/255.0.255.0`). Free bits below the
   * lowest set mask bit form each interval; every combination of the other free bits is one
   * interval. Past 2^16 intervals the set is approximated by the mask's leading prefix.
   */
  static masked(family: Family, address: string, maskText: string): AddressSet {
    const bits = bitsOf(family);
    const base = addressToBigint(family, address);
    const mask = addressToBigint(family, maskText);
    if (base === undefined || mask === undefined) return AddressSet.empty(family);
    const { low, freeHigh } = maskShape(mask, bits);
    if (freeHigh.length > MAX_MASK_FREE_BITS) {
      let prefix = 0;
      while (prefix < bits && ((mask >> BigInt(bits - 1 - prefix)) & 1n) === 1n) prefix++;
      return AddressSet.cidr(family, address, prefix);
    }
    const fixed = base & mask;
    const span = (1n << BigInt(low)) - 1n;
    const starts: bigint[] = [];
    for (let combination = 0; combination < 1 << freeHigh.length; combination++) {
      let start = fixed;
      freeHigh.forEach((b, k) => { if ((combination >> k) & 1) start |= 1n << BigInt(b); });
      starts.push(start);
    }
    starts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return starts.reduce((set, start) => set.union(AddressSet.range(family, start, start + span)), AddressSet.empty(family));
  }

  /**
   * When `masked` approximates this mask's set (too many free bits above its lowest set bit):
   * how many free bits it has. Zero when the set is exact.
   */
  static approximatedMaskBits(family: Family, maskText: string): number {
    const mask = addressToBigint(family, maskText);
    if (mask === undefined) return 0;
    const free = maskShape(mask, bitsOf(family)).freeHigh.length;
    return free > MAX_MASK_FREE_BITS ? free : 0;
  }

  isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  isAll(): boolean {
    const all = AddressSet.all(this.family).intervals[0]!;
    return this.intervals.length === 1 && this.intervals[0]![0] === all[0] && this.intervals[0]![1] === all[1];
  }

  contains(value: bigint): boolean {
    let lo = 0;
    let hi = this.intervals.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.intervals[mid]!;
      if (value < a) hi = mid - 1;
      else if (value > b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  containsText(address: string): boolean {
    const value = addressToBigint(this.family, address.split('/')[0] ?? '');
    return value !== undefined && this.contains(value);
  }

  union(other: AddressSet): AddressSet {
    const all = [...this.intervals, ...other.intervals].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const out: [bigint, bigint][] = [];
    for (const [a, b] of all) {
      const last = out[out.length - 1];
      if (last && a <= last[1] + 1n) {
        if (b > last[1]) last[1] = b;
      } else {
        out.push([a, b]);
      }
    }
    return new AddressSet(this.family, out);
  }

  complement(): AddressSet {
    const max = (1n << BigInt(bitsOf(this.family))) - 1n;
    const out: Interval[] = [];
    let next = 0n;
    for (const [a, b] of this.intervals) {
      if (a > next) out.push([next, a - 1n]);
      next = b + 1n;
    }
    if (next <= max) out.push([next, max]);
    return new AddressSet(this.family, out);
  }

  intersect(other: AddressSet): AddressSet {
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < this.intervals.length && j < other.intervals.length) {
      const [a1, b1] = this.intervals[i]!;
      const [a2, b2] = other.intervals[j]!;
      const a = a1 > a2 ? a1 : a2;
      const b = b1 < b2 ? b1 : b2;
      if (a <= b) out.push([a, b]);
      if (b1 < b2) i++; else j++;
    }
    return new AddressSet(this.family, out);
  }

  subtract(other: AddressSet): AddressSet {
    return this.intersect(other.complement());
  }

  equals(other: AddressSet): boolean {
    return this.intervals.length === other.intervals.length
      && this.intervals.every(([a, b], k) => a === other.intervals[k]![0] && b === other.intervals[k]![1]);
  }

  /** Some member, for building a concrete witness packet. */
  sample(): bigint | undefined {
    return this.intervals[0]?.[0];
  }

  /** The minimal list of CIDR blocks covering exactly this set. */
  toCidrs(): string[] {
    const bits = bitsOf(this.family);
    const out: string[] = [];
    for (const [from, to] of this.intervals) {
      let start = from;
      while (start <= to) {
        let size = 0;
        while (size < bits) {
          const next = size + 1;
          const block = 1n << BigInt(next);
          if (start % block !== 0n || start + block - 1n > to) break;
          size = next;
        }
        out.push(`${bigintToAddress(this.family, start)}/${bits - size}`);
        start += 1n << BigInt(size);
      }
    }
    return out;
  }
}
