// IPv4 / IPv6 address text ↔ numbers, as iptables reads and prints them.
//
// IPv4 addresses are numbers (0 … 2^32-1), IPv6 addresses bigints; the model
// and simulator build interval sets on these, so they live with the grammar
// (the lowest stage) and everything above imports them from here.

import type { Family } from './ast.ts';

export type AddressValue = { readonly family: 'ipv4'; readonly value: number } | { readonly family: 'ipv6'; readonly value: bigint };

export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (digits > 3 || octet > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0) return undefined;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || parts !== 3) return undefined;
  return value * 256 + octet;
}

export function formatIPv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function parseIPv6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let tailV4: number | undefined;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = text.endsWith('::', lastColon + 1) ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }
  const groupsWanted = tailV4 === undefined ? 8 : 6;
  const double = head.indexOf('::');
  if (double !== -1 && head.indexOf('::', double + 1) !== -1) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double !== -1) {
    const left = parseGroups(head.slice(0, double));
    const right = parseGroups(head.slice(double + 2));
    if (!left || !right) return undefined;
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (tailV4 !== undefined) value = (value << 32n) | BigInt(tailV4);
  return value;
}

/** RFC 5952 text, as iptables prints it. */
export function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  // IPv4-mapped addresses keep their dotted tail, as inet_ntop prints them.
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(Number(value & 0xffffffffn))}`;
  }
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseAddress(text: string, family: Family): AddressValue | undefined {
  if (family === 'ipv4') {
    const value = parseIPv4(text);
    return value === undefined ? undefined : { family, value };
  }
  const value = parseIPv6(text);
  return value === undefined ? undefined : { family, value };
}

export function addressBits(family: Family): number {
  return family === 'ipv4' ? 32 : 128;
}

/** The network part of `value` under a prefix length. */
export function maskIPv4(value: number, prefixLength: number): number {
  if (prefixLength <= 0) return 0;
  if (prefixLength >= 32) return value >>> 0;
  return (value & (~0 << (32 - prefixLength))) >>> 0;
}

export function maskIPv6(value: bigint, prefixLength: number): bigint {
  if (prefixLength <= 0) return 0n;
  if (prefixLength >= 128) return value;
  const hostBits = BigInt(128 - prefixLength);
  return (value >> hostBits) << hostBits;
}

/** A dotted IPv4 mask → prefix length, or -1 when the mask is not contiguous. */
export function maskToPrefixIPv4(mask: number): number {
  let bits = 0;
  let seenZero = false;
  for (let i = 31; i >= 0; i--) {
    if ((mask >>> i) & 1) {
      if (seenZero) return -1;
      bits++;
    } else {
      seenZero = true;
    }
  }
  return bits;
}

export function maskToPrefixIPv6(mask: bigint): number {
  let bits = 0;
  let seenZero = false;
  for (let i = 127; i >= 0; i--) {
    if ((mask >> BigInt(i)) & 1n) {
      if (seenZero) return -1;
      bits++;
    } else {
      seenZero = true;
    }
  }
  return bits;
}

/** Guess an address family from text alone: colons mean IPv6. */
export function familyOfText(text: string): Family | undefined {
  if (text.includes(':')) return parseIPv6(text.split('/')[0] ?? '') !== undefined ? 'ipv6' : undefined;
  if (/^\d+\.\d+\.\d+\.\d+(\/.*)?$/.test(text)) return 'ipv4';
  return undefined;
}
