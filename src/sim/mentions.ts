// What a ruleset's rules mention that the exposure questions are chosen from:
// the interfaces packets arrive on, the destination ports, and whether any
// destination holds one of the addresses that stand for the host.
//
// Each of these once walked every rule of the ruleset, and the lint rules ask
// for them again and again; a kube-proxy ruleset has 170,000 rules spread over
// the heap, so one pass per ruleset, kept as long as the ruleset lives.

import type { Family, Ruleset } from '../../grammar/ast.ts';
import { AddressSet, addressToBigint, bitsOf } from '../model/addrset.ts';

export interface Mentions {
  /** Names of non-wildcard `-i` interfaces, each once. */
  readonly inInterfaces: ReadonlySet<string>;
  /** The first of UNUSED_PORT_CANDIDATES that no tcp/udp `--dport` range starts or ends at, if any. */
  readonly unusedPort: number | undefined;
  /** For each of REPRESENTATIVE_LOCAL_ADDRESSES[family]: whether a non-negated `-d` holds it. */
  readonly representativeMentioned: readonly boolean[];
}

/** Addresses that can stand for "one of the host's addresses", in order of preference. */
export const REPRESENTATIVE_LOCAL_ADDRESSES: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['203.0.113.10', '198.18.0.10', '100.64.0.10', '192.0.2.200'],
  ipv6: ['2001:db8:ffff::10', '2001:db8:fffe::10', 'fd00:ffff::10'],
};

/** Ports that can stand for "any other port", in order of preference. */
export const UNUSED_PORT_CANDIDATES: readonly number[] = [65001, 64999, 61234, 50505, 33333];

const cache = new WeakMap<Ruleset, Mentions>();

export function mentionsOf(ruleset: Ruleset): Mentions {
  let mentions = cache.get(ruleset);
  if (!mentions) {
    mentions = gather(ruleset);
    cache.set(ruleset, mentions);
  }
  return mentions;
}

function gather(ruleset: Ruleset): Mentions {
  const family = ruleset.family;
  const bits = bitsOf(family);
  const representatives = REPRESENTATIVE_LOCAL_ADDRESSES[family];
  const values = representatives.map((text) => addressToBigint(family, text)!);
  const representativeMentioned = representatives.map(() => false);
  const inInterfaces = new Set<string>();
  const portUsed = UNUSED_PORT_CANDIDATES.map(() => false);
  const markUsed = (port: number) => {
    for (let k = 0; k < UNUSED_PORT_CANDIDATES.length; k++) if (UNUSED_PORT_CANDIDATES[k] === port) portUsed[k] = true;
  };
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      const rules = chain.rules;
      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r]!;
        const i = rule.inInterface;
        if (i && !i.wildcard) inInterfaces.add(i.name);
        const d = rule.destination;
        if (d && !d.negated) {
          if (d.prefixLength >= 0 && d.prefixLength <= bits) {
            // AddressSet.cidr's block, without building it: same top bits.
            const base = addressToBigint(family, d.address);
            if (base !== undefined) {
              const hostBits = BigInt(bits - d.prefixLength);
              const block = base >> hostBits;
              for (let k = 0; k < values.length; k++) if (values[k]! >> hostBits === block) representativeMentioned[k] = true;
            }
          } else {
            const set = AddressSet.fromMatch(family, d);
            for (let k = 0; k < values.length; k++) if (set.containsText(representatives[k]!)) representativeMentioned[k] = true;
          }
        }
        const matches = rule.matches;
        for (let m = 0; m < matches.length; m++) {
          const match = matches[m]!;
          if ((match.kind === 'tcp' || match.kind === 'udp') && match.dport) {
            const ranges = match.dport.ranges;
            for (let k = 0; k < ranges.length; k++) {
              markUsed(ranges[k]!.from);
              markUsed(ranges[k]!.to);
            }
          }
        }
      }
    }
  }
  const unusedPort = UNUSED_PORT_CANDIDATES.find((_, k) => !portUsed[k]);
  return { inInterfaces, unusedPort, representativeMentioned };
}
