// Addresses as the Docker model compares them: canonical text for keys, and
// bridge subnets as integer intervals so "which bridge holds this container"
// is a few comparisons, not a parse per question.

import type { Family } from '../../../grammar/ast.ts';
import type { Subnet } from '../docker-types.ts';
import { addressToBigint, bigintToAddress, bitsOf } from '../addrset.ts';

/** `172.17.0.2/32`, `"[fd00::2]:80"` and `fd00:0::2` all become `fd00::2`-style canonical text. */
export class Addresses {
  private readonly values = new Map<string, bigint | undefined>();
  private readonly texts = new Map<string, string>();

  constructor(readonly family: Family) {}

  /** The address's integer value; the text may carry a `/len` suffix. */
  value(text: string): bigint | undefined {
    let value = this.values.get(text);
    if (value === undefined && !this.values.has(text)) {
      value = addressToBigint(this.family, text.replace(/\/\d+$/, ''));
      this.values.set(text, value);
    }
    return value;
  }

  /** Canonical text, or the text without its mask when it does not parse. */
  canonical(text: string): string {
    let canonical = this.texts.get(text);
    if (canonical === undefined) {
      const value = this.value(text);
      canonical = value === undefined ? text.replace(/\/\d+$/, '') : bigintToAddress(this.family, value);
      this.texts.set(text, canonical);
    }
    return canonical;
  }

  compare(a: string, b: string): number {
    const x = this.value(a) ?? 0n;
    const y = this.value(b) ?? 0n;
    return x < y ? -1 : x > y ? 1 : 0;
  }
}

interface Interval {
  readonly bridge: string;
  readonly from: bigint;
  readonly to: bigint;
}

/** Bridge subnets, in the order the dump shows them. */
export class BridgeSubnets {
  private readonly intervals: Interval[] = [];
  private readonly intervalsOf = new Map<string, Interval[]>();
  private readonly byBridge = new Map<string, Subnet[]>();

  constructor(private readonly addresses: Addresses) {}

  add(bridge: string, net: string): void {
    const [address, prefix] = net.split('/');
    const base = this.addresses.value(address!);
    if (base === undefined) return;
    const list = this.byBridge.get(bridge) ?? [];
    const prefixLength = Number(prefix);
    if (list.some((s) => s.address === address && s.prefixLength === prefixLength)) return;
    list.push({ address: address!, prefixLength });
    this.byBridge.set(bridge, list);
    const hostBits = BigInt(bitsOf(this.addresses.family) - prefixLength);
    const from = (base >> hostBits) << hostBits;
    const interval = { bridge, from, to: from + (1n << hostBits) - 1n };
    this.intervals.push(interval);
    this.intervalsOf.set(bridge, [...(this.intervalsOf.get(bridge) ?? []), interval]);
  }

  of(bridge: string): readonly Subnet[] {
    return this.byBridge.get(bridge) ?? [];
  }

  known(bridge: string): boolean {
    return this.byBridge.has(bridge);
  }

  /** Whether the bridge's subnets hold the address; undefined when the dump shows none for it. */
  holds(bridge: string, address: string): boolean | undefined {
    const intervals = this.intervalsOf.get(bridge);
    if (!intervals) return undefined;
    const value = this.addresses.value(address);
    return value !== undefined && intervals.some((i) => i.from <= value && value <= i.to);
  }

  /** The bridge whose subnet holds the address. */
  bridgeOf(address: string): string | undefined {
    const value = this.addresses.value(address);
    if (value === undefined) return undefined;
    return this.intervals.find((i) => i.from <= value && value <= i.to)?.bridge;
  }
}
