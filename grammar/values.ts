// Typed readers for option values (ports, protocols, addresses, interfaces,
// marks, ICMP types …). Each returns a value or a reason string; the caller
// turns reasons into located errors.

import type { AddressMatch, Family, IcmpTypeMatch, InterfaceMatch, PortMatch, PortRange, ProtocolMatch } from './ast.ts';
import {
  formatIPv4, formatIPv6, maskIPv4, maskIPv6, maskToPrefixIPv4, maskToPrefixIPv6, parseIPv4, parseIPv6,
} from './address.ts';
import { SERVICES } from './services.ts';

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly hint?: string };

export const ok = <T>(value: T): Read<T> => ({ ok: true, value });
export const fail = (reason: string, hint?: string): Read<never> => ({ ok: false, reason, hint });

/** The protocol names iptables-save prints (from /etc/protocols), by number. */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'all'], [1, 'icmp'], [2, 'igmp'], [4, 'ipencap'], [6, 'tcp'], [17, 'udp'], [33, 'dccp'], [41, 'ipv6'],
  [47, 'gre'], [50, 'esp'], [51, 'ah'], [58, 'ipv6-icmp'], [103, 'pim'], [112, 'vrrp'], [115, 'l2tp'],
  [132, 'sctp'], [135, 'mh'], [136, 'udplite'],
]);
const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ...[...PROTOCOL_NAMES].map(([n, name]) => [name, n] as [string, number]),
  ['icmpv6', 58], ['icmp6', 58], ['ipv6-icmp', 58], ['ip', 0], ['any', 0],
]);

// Every rule names a protocol from a short list: the readings are shared, not rebuilt per rule.
const protocolReadings = [new Map<string, Read<ProtocolMatch>>(), new Map<string, Read<ProtocolMatch>>()] as const;
const MAX_SHARED_READINGS = 1024;

export function readProtocol(text: string, negated: boolean): Read<ProtocolMatch> {
  const readings = protocolReadings[negated ? 1 : 0];
  let reading = readings.get(text);
  if (reading === undefined) {
    reading = readProtocolText(text, negated);
    if (reading.ok && readings.size < MAX_SHARED_READINGS) readings.set(text, reading);
  }
  return reading;
}

function readProtocolText(text: string, negated: boolean): Read<ProtocolMatch> {
  const lower = text.toLowerCase();
  if (/^\d+$/.test(lower)) {
    const number = Number(lower);
    if (number > 255) return fail(`invalid protocol "${text}"`, 'protocol numbers go from 0 to 255');
    return ok({ name: PROTOCOL_NAMES.get(number) ?? String(number), number, negated });
  }
  const number = PROTOCOL_NUMBERS.get(lower);
  if (number === undefined) return fail(`unknown protocol "${text}"`, 'use a name from /etc/protocols (tcp, udp, icmp, ipv6-icmp, sctp …) or a number');
  return ok({ name: PROTOCOL_NAMES.get(number) ?? lower, number, negated });
}

export function readPort(text: string): Read<number> {
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port > 65535) return fail(`invalid port "${text}"`, 'ports go from 0 to 65535');
    return ok(port);
  }
  const port = SERVICES.get(text);
  if (port === undefined) return fail(`invalid port/service "${text}"`, 'use a number or a name from /etc/services');
  return ok(port);
}

/** `80`, `1024:65535`, `:1023`, `1024:`. */
export function readPortRange(text: string, reversedOk = false): Read<PortRange> {
  const colon = text.indexOf(':');
  if (colon === -1) {
    const port = readPort(text);
    return port.ok ? ok({ from: port.value, to: port.value }) : port;
  }
  const fromText = text.slice(0, colon);
  const toText = text.slice(colon + 1);
  const from = fromText === '' ? ok(0) : readPort(fromText);
  if (!from.ok) return from;
  const to = toText === '' ? ok(65535) : readPort(toText);
  if (!to.ok) return to;
  if (from.value > to.value && !reversedOk) return fail(`invalid port range "${text}"`, 'the first port must not be greater than the second');
  return ok({ from: from.value, to: to.value });
}

export function readPortMatch(text: string, negated: boolean, reversedOk = false): Read<PortMatch> {
  const range = readPortRange(text, reversedOk);
  return range.ok ? ok({ ranges: [range.value], negated }) : range;
}

/** multiport: up to 15 comma-separated ports, a range counting as two. */
export function readPortList(text: string, negated: boolean): Read<PortMatch> {
  const ranges: PortRange[] = [];
  let slots = 0;
  for (const part of text.split(',')) {
    if (part === '') return fail(`invalid port list "${text}"`);
    const range = readPortRange(part);
    if (!range.ok) return range;
    ranges.push(range.value);
    slots += part.includes(':') ? 2 : 1;
  }
  if (slots > 15) return fail(`too many ports in "${text}"`, 'multiport takes at most 15 ports (a range counts as two)');
  return ok({ ranges, negated });
}

const MAX_INTERFACE_NAME = 15;

export function readInterface(text: string, negated: boolean): Read<InterfaceMatch> {
  if (text.length === 0) return fail('empty interface name');
  if (text.length > MAX_INTERFACE_NAME) {
    return fail(`interface name "${text}" is too long`, `interface names have at most ${MAX_INTERFACE_NAME} characters`);
  }
  const wildcard = text.endsWith('+');
  return ok({ name: wildcard ? text.slice(0, -1) : text, wildcard, negated });
}

/** One address with optional prefix length or mask, host bits cleared as the kernel stores it. */
export function readAddress(text: string, family: Family, negated: boolean): Read<AddressMatch> {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const maskText = slash === -1 ? undefined : text.slice(slash + 1);
  if (family === 'ipv4') {
    const value = parseIPv4(addressText);
    if (value === undefined) {
      return fail(`invalid IPv4 address "${addressText}"`, addressText.includes(':') ? 'this is an IPv6 address: is the ruleset an ip6tables-save dump?' : undefined);
    }
    let prefixLength = 32;
    if (maskText !== undefined) {
      if (/^\d+$/.test(maskText)) {
        prefixLength = Number(maskText);
        if (prefixLength > 32) return fail(`invalid prefix length "/${maskText}"`, 'IPv4 prefixes go from 0 to 32');
      } else {
        const mask = parseIPv4(maskText);
        if (mask === undefined) return fail(`invalid mask "${maskText}"`);
        prefixLength = maskToPrefixIPv4(mask);
        if (prefixLength === -1) {
          return ok({ address: formatIPv4((value & mask) >>> 0), prefixLength: -1, negated, mask: maskText });
        }
      }
    }
    return ok({ address: formatIPv4(maskIPv4(value, prefixLength)), prefixLength, negated });
  }
  const value = parseIPv6(addressText);
  if (value === undefined) {
    return fail(`invalid IPv6 address "${addressText}"`, /^\d+\.\d+\.\d+\.\d+$/.test(addressText) ? 'this is an IPv4 address: is the ruleset an iptables-save dump?' : undefined);
  }
  let prefixLength = 128;
  if (maskText !== undefined) {
    if (/^\d+$/.test(maskText)) {
      prefixLength = Number(maskText);
      if (prefixLength > 128) return fail(`invalid prefix length "/${maskText}"`, 'IPv6 prefixes go from 0 to 128');
    } else {
      const mask = parseIPv6(maskText);
      if (mask === undefined) return fail(`invalid mask "${maskText}"`);
      prefixLength = maskToPrefixIPv6(mask);
      if (prefixLength === -1) return ok({ address: formatIPv6(value & mask), prefixLength: -1, negated, mask: maskText });
    }
  }
  return ok({ address: formatIPv6(maskIPv6(value, prefixLength)), prefixLength, negated });
}

/** `-s a,b,c`: iptables expands a list into one rule per address. */
export function readAddressList(text: string, family: Family, negated: boolean): Read<readonly AddressMatch[]> {
  const out: AddressMatch[] = [];
  for (const part of text.split(',')) {
    if (part === '') return fail(`invalid address list "${text}"`);
    const address = readAddress(part, family, negated);
    if (!address.ok) return address;
    out.push(address.value);
  }
  return ok(out);
}

/** A 32-bit number in decimal or 0x hex, as marks are written. */
export function readU32(text: string): Read<number> {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) return fail(`invalid number "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > 0xffffffff) return fail(`number "${text}" does not fit in 32 bits`);
  return ok(value);
}

export function readMarkValue(text: string): Read<{ value: number; mask: number }> {
  const slash = text.indexOf('/');
  const value = readU32(slash === -1 ? text : text.slice(0, slash));
  if (!value.ok) return value;
  if (slash === -1) return ok({ value: value.value, mask: 0xffffffff });
  const mask = readU32(text.slice(slash + 1));
  if (!mask.ok) return mask;
  return ok({ value: value.value, mask: mask.value });
}

const ICMP_TYPES: ReadonlyMap<string, [number, number?]> = new Map([
  ['any', [-1]], ['echo-reply', [0]], ['pong', [0]], ['destination-unreachable', [3]],
  ['network-unreachable', [3, 0]], ['host-unreachable', [3, 1]], ['protocol-unreachable', [3, 2]],
  ['port-unreachable', [3, 3]], ['fragmentation-needed', [3, 4]], ['source-route-failed', [3, 5]],
  ['network-unknown', [3, 6]], ['host-unknown', [3, 7]], ['network-prohibited', [3, 9]], ['host-prohibited', [3, 10]],
  ['TOS-network-unreachable', [3, 11]], ['TOS-host-unreachable', [3, 12]], ['communication-prohibited', [3, 13]],
  ['host-precedence-violation', [3, 14]], ['precedence-cutoff', [3, 15]], ['source-quench', [4]],
  ['redirect', [5]], ['network-redirect', [5, 0]], ['host-redirect', [5, 1]], ['TOS-network-redirect', [5, 2]],
  ['TOS-host-redirect', [5, 3]], ['echo-request', [8]], ['ping', [8]], ['router-advertisement', [9]],
  ['router-solicitation', [10]], ['time-exceeded', [11]], ['ttl-exceeded', [11]], ['ttl-zero-during-transit', [11, 0]],
  ['ttl-zero-during-reassembly', [11, 1]], ['parameter-problem', [12]], ['ip-header-bad', [12, 0]],
  ['required-option-missing', [12, 1]], ['timestamp-request', [13]], ['timestamp-reply', [14]],
  ['address-mask-request', [17]], ['address-mask-reply', [18]],
]);

const ICMPV6_TYPES: ReadonlyMap<string, [number, number?]> = new Map([
  ['destination-unreachable', [1]], ['no-route', [1, 0]], ['communication-prohibited', [1, 1]],
  ['beyond-scope', [1, 2]], ['address-unreachable', [1, 3]], ['port-unreachable', [1, 4]],
  ['failed-policy', [1, 5]], ['reject-route', [1, 6]], ['packet-too-big', [2]], ['time-exceeded', [3]],
  ['ttl-exceeded', [3]], ['ttl-zero-during-transit', [3, 0]], ['ttl-zero-during-reassembly', [3, 1]],
  ['parameter-problem', [4]], ['bad-header', [4, 0]], ['unknown-header-type', [4, 1]], ['unknown-option', [4, 2]],
  ['echo-request', [128]], ['ping', [128]], ['echo-reply', [129]], ['pong', [129]],
  ['mld-listener-query', [130]], ['mld-listener-report', [131]], ['mld-listener-done', [132]], ['mld-listener-reduction', [132]],
  ['router-solicitation', [133]], ['router-advertisement', [134]], ['neighbour-solicitation', [135]],
  ['neighbor-solicitation', [135]], ['neighbour-advertisement', [136]], ['neighbor-advertisement', [136]],
  ['redirect', [137]],
]);

export function readIcmpType(text: string, negated: boolean, v6: boolean): Read<IcmpTypeMatch> {
  const table = v6 ? ICMPV6_TYPES : ICMP_TYPES;
  const named = table.get(text) ?? [...table].find(([name]) => name.toLowerCase() === text.toLowerCase())?.[1];
  if (named) return ok(named[1] === undefined ? { type: named[0], negated } : { type: named[0], code: named[1], negated });
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return fail(`invalid ICMP${v6 ? 'v6' : ''} type "${text}"`, `use a number, type/code, or a name such as ${v6 ? 'echo-request' : 'echo-request'}`);
  const type = Number(m[1]);
  const code = m[2] === undefined ? undefined : Number(m[2]);
  if (type > 255 || (code !== undefined && code > 255)) return fail(`invalid ICMP type "${text}"`, 'types and codes go from 0 to 255');
  return ok(code === undefined ? { type, negated } : { type, code, negated });
}

export function readEnumList<T extends string>(text: string, allowed: readonly T[], what: string): Read<readonly T[]> {
  const out: T[] = [];
  for (const part of text.split(',')) {
    const found = allowed.find((a) => a === part.toUpperCase());
    if (!found) return fail(`invalid ${what} "${part}"`, `expected one of ${allowed.join(', ')}`);
    out.push(found);
  }
  return ok(out);
}

/** `--to-destination 1.2.3.4`, `1.2.3.4:80`, `1.2.3.4-1.2.3.9:80-90`, `[fd00::2]:80`, `:8080`. */
export function readNatRange(text: string, family: Family): Read<{ addressFrom?: string; addressTo?: string; portFrom?: number; portTo?: number }> {
  let addressPart = text;
  let portPart: string | undefined;
  if (family === 'ipv6') {
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      if (close === -1) return fail(`invalid NAT range "${text}"`, 'IPv6 addresses with a port are written [address]:port');
      addressPart = text.slice(1, close);
      const rest = text.slice(close + 1);
      if (rest !== '') {
        if (!rest.startsWith(':')) return fail(`invalid NAT range "${text}"`);
        portPart = rest.slice(1);
      }
    }
  } else {
    const colon = text.indexOf(':');
    if (colon !== -1) {
      addressPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    }
  }
  const result: { addressFrom?: string; addressTo?: string; portFrom?: number; portTo?: number } = {};
  if (addressPart !== '') {
    const dash = addressPart.indexOf('-');
    const fromText = dash === -1 ? addressPart : addressPart.slice(0, dash);
    const toText = dash === -1 ? addressPart : addressPart.slice(dash + 1);
    const parse = family === 'ipv4' ? parseIPv4 : parseIPv6;
    const format = (t: string) => {
      const v = parse(t);
      return v === undefined ? undefined : family === 'ipv4' ? formatIPv4(v as number) : formatIPv6(v as bigint);
    };
    const from = format(fromText);
    const to = format(toText);
    if (from === undefined || to === undefined) return fail(`invalid address in NAT range "${text}"`);
    result.addressFrom = from;
    result.addressTo = to;
  }
  if (portPart !== undefined) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(portPart);
    if (!range) return fail(`invalid port in NAT range "${text}"`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (from > 65535 || to > 65535 || from > to) return fail(`invalid port range in "${text}"`);
    result.portFrom = from;
    result.portTo = to;
  }
  if (addressPart === '' && portPart === undefined) return fail(`empty NAT range`);
  return ok(result);
}
