// The inspection commands: `parse` (the AST), `docker` (the recognised Docker
// model), `trace` (one packet's walk) and `exposure` (who reaches what).

import pc from 'picocolors';
import type { Family, ParseError, Ruleset } from '../../grammar/ast.ts';
import { parse } from '../../grammar/index.ts';
import { buildHosts } from '../engine/host.ts';
import type { Host, RulesetView } from '../engine/types.ts';
import { describeDocker, dockerModelJson, proxiedOverIpv6, proxyServing } from '../model/docker.ts';
import type { PublishedPort } from '../model/docker-types.ts';
import { decideColour } from '../report/colour.ts';
import { safeText } from '../report/sanitize.ts';
import { formatParseError } from '../report/text.ts';
import type { CtState, ExposureEntry, L4Protocol, Packet, ReachableFrom, RulesetExposure, Trace } from '../sim/types.ts';
import { computeExposure, conditionsText, mergeConditions } from '../sim/exposure.ts';
import { isRulesetSimulator } from '../sim/index.ts';
import { collectInputs } from './inputs.ts';
import { type CliIO, EXIT, UsageError } from './io.ts';

export interface HostFlags {
  readonly extIf?: string[];
  readonly localAddr?: string[];
  readonly family?: Family;
  readonly json?: boolean;
  readonly color?: boolean;
}

function printErrors(io: CliIO, errors: readonly ParseError[], color: boolean | undefined): void {
  if (errors.length === 0) return;
  const c = pc.createColors(decideColour({ flag: color, env: io.env, isTTY: io.stderr.isTTY }));
  io.stderr.write(`${errors.map((e) => formatParseError(e, c)).join('\n')}\n`);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Reads and parses the inputs into hosts; any unreadable or unparseable input is exit 2 (after printing why). */
function loadHosts(paths: readonly string[], flags: HostFlags, io: CliIO): { hosts: readonly Host[]; failed: boolean } {
  const collected = collectInputs(paths, io);
  const built = buildHosts(collected.inputs, { externalInterfaces: flags.extIf ?? [], localAddresses: flags.localAddr ?? [] }, flags.family);
  const errors = [...collected.errors, ...built.errors];
  printErrors(io, errors, flags.color);
  return { hosts: built.hosts, failed: errors.length > 0 };
}

// ---------------------------------------------------------------- parse

function rulesetSummary(r: Ruleset): string {
  const lines = [`${r.file}: ${r.family} (from ${r.familySource}), lines ${r.startLine}-${r.endLine}${r.legacyTablesWarning ? ', legacy tables present' : ''}`];
  if (r.tables.length === 0) lines.push('  no tables (an empty ruleset)');
  for (const t of r.tables) {
    const rules = t.chains.reduce((n, c) => n + c.rules.length, 0);
    const user = t.chains.filter((c) => !c.builtin).length;
    const policies = t.chains.filter((c) => c.builtin).map((c) => `${c.name} ${c.policy ?? 'ACCEPT'}`).join(', ');
    lines.push(`  ${t.name}: ${t.chains.length} chains (${user} user), ${rules} rules; policies ${policies}`);
  }
  return lines.join('\n');
}

export function runParse(file: string | undefined, flags: { json?: boolean; family?: Family; color?: boolean; stdinFilename?: string }, io: CliIO): number {
  const collected = collectInputs(file === undefined ? [] : [file], io, flags.stdinFilename);
  const input = collected.inputs[0];
  const result = input ? parse(input.text, { file: input.file, family: flags.family }) : { rulesets: [], errors: [] };
  const errors = [...collected.errors, ...result.errors];
  if (flags.json) io.stdout.write(json({ file: input?.file ?? file, rulesets: result.rulesets, errors }));
  else if (input) io.stdout.write(`${safeText(result.rulesets.map(rulesetSummary).join('\n'))}\n`);
  printErrors(io, errors, flags.color);
  return errors.length > 0 ? EXIT.trouble : EXIT.clean;
}

// ---------------------------------------------------------------- docker

export function runDocker(paths: readonly string[], flags: HostFlags, io: CliIO): number {
  const { hosts, failed } = loadHosts(paths, flags, io);
  const views = hosts.flatMap((h) => h.views);
  if (flags.json) io.stdout.write(json({ rulesets: views.map((v) => ({ ...dockerModelJson(v.docker), file: v.ruleset.file })) }));
  else io.stdout.write(`${safeText(views.map((v) => `${v.ruleset.file}\n${describeDocker(v.docker).trimEnd()}`).join('\n\n'))}\n`);
  return failed ? EXIT.trouble : EXIT.clean;
}

// ---------------------------------------------------------------- trace

export interface TraceFlags extends HostFlags {
  readonly in?: string;
  readonly src?: string;
  readonly dst?: string;
  readonly proto?: string;
  readonly dport?: string;
  readonly sport?: string;
  readonly state?: string;
  readonly mark?: string;
  readonly fromHost?: boolean;
}

const PROTOCOLS: Readonly<Record<string, L4Protocol>> = {
  tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'icmpv6', 'ipv6-icmp': 'icmpv6', icmp6: 'icmpv6', sctp: 'sctp',
};
const STATES: readonly CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];
const DEFAULT_SOURCE: Readonly<Record<Family, string>> = { ipv4: '198.51.100.1', ipv6: '2001:db8:ffff::1' };

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--${name} must be a port number (0-65535), not "${value}"`);
  return Number(value);
}

function addressFamily(address: string): Family {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * The source when none is given. The host picks its own for what it sends, as its routes
 * would: the loopback address towards a loopback destination, one of its given addresses
 * otherwise; a packet from outside gets a documentation address.
 */
function defaultSource(family: Family, dst: string, fromHost: boolean, localAddresses: readonly string[]): string {
  if (!fromHost) return DEFAULT_SOURCE[family];
  if (family === 'ipv4' ? dst.startsWith('127.') : dst === '::1') return family === 'ipv4' ? '127.0.0.1' : '::1';
  const own = localAddresses.map((a) => a.split('/')[0]!).find((a) => addressFamily(a) === family);
  return own ?? DEFAULT_SOURCE[family];
}

/** The packet `trace` walks, from its flags. */
export function packetFromFlags(flags: TraceFlags, externalInterfaces: readonly string[]): { packet: Packet; notes: string[] } {
  const notes: string[] = [];
  if (!flags.dst) throw new UsageError('trace needs --dst ADDRESS (the packet\'s destination)');
  if (!/^[0-9A-Fa-f.:]+$/.test(flags.dst)) throw new UsageError(`--dst must be an IP address, not "${flags.dst}"`);
  if (flags.src !== undefined && !/^[0-9A-Fa-f.:]+$/.test(flags.src)) throw new UsageError(`--src must be an IP address, not "${flags.src}"`);
  const family = flags.family ?? addressFamily(flags.dst);
  if (addressFamily(flags.dst) !== family || (flags.src !== undefined && addressFamily(flags.src) !== family)) {
    throw new UsageError('--src, --dst and --family disagree about the address family');
  }
  const protoName = (flags.proto ?? 'tcp').toLowerCase();
  let proto = PROTOCOLS[protoName];
  let protoNumber: number | undefined;
  if (!proto) {
    if (!/^\d{1,3}$/.test(protoName) || Number(protoName) > 255) throw new UsageError(`--proto must be tcp, udp, icmp, icmpv6, sctp or a protocol number, not "${flags.proto}"`);
    proto = 'other';
    protoNumber = Number(protoName);
  }
  if (family === 'ipv6' && proto === 'icmp') proto = 'icmpv6';
  const hasPorts = proto === 'tcp' || proto === 'udp' || proto === 'sctp';
  const dport = port('dport', flags.dport);
  const sport = port('sport', flags.sport);
  if (!hasPorts && (dport !== undefined || sport !== undefined)) throw new UsageError(`--dport/--sport need --proto tcp, udp or sctp (not ${protoName})`);
  const state = (flags.state ?? 'NEW').toUpperCase() as CtState;
  if (!STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}, not "${flags.state}"`);
  let mark: number | undefined;
  if (flags.mark !== undefined) {
    mark = Number(flags.mark);
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(flags.mark) || mark > 0xffffffff) throw new UsageError(`--mark must be a number (decimal or 0x hex), not "${flags.mark}"`);
  }
  if (flags.fromHost && flags.in) throw new UsageError('--from-host and --in exclude each other: a packet the host sends arrives on no interface');
  const src = flags.src ?? defaultSource(family, flags.dst, flags.fromHost === true, flags.localAddr ?? []);
  if (flags.src === undefined) notes.push(`source address not given: using ${src}`);
  const inInterface = flags.fromHost ? undefined : flags.in ?? externalInterfaces[0] ?? 'eth0';
  if (!flags.fromHost && !flags.in) notes.push(`input interface not given: using ${inInterface}`);
  const packet: Packet = {
    family, proto, src, dst: flags.dst, state,
    ...(protoNumber !== undefined ? { protoNumber } : {}),
    ...(hasPorts ? { dport: dport ?? 80, sport: sport ?? 40000 } : {}),
    ...(inInterface !== undefined ? { inInterface } : {}),
    ...(flags.fromHost ? { fromHost: true } : {}),
    ...(mark !== undefined ? { mark } : {}),
  };
  if (hasPorts && dport === undefined) notes.push('destination port not given: using 80');
  return { packet, notes };
}

function packetText(p: Packet): string {
  const at = (a: string, port?: number) => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  const where = p.fromHost ? 'sent by the host' : `in ${p.inInterface}`;
  return `${p.proto} ${at(p.src, p.sport)} → ${at(p.dst, p.dport)} ${where} (${p.state ?? 'NEW'}${p.mark !== undefined ? `, mark 0x${p.mark.toString(16)}` : ''})`;
}

/** The container docker-proxy carries a connection to, in `trace --json` and `exposure --json` alike. */
function proxiedToJson(p: PublishedPort) {
  return { address: p.container.address, port: p.container.port, bridge: p.bridge };
}

/** "172.20.0.2:443 on br-…": the same, as trace and exposure print it. */
function proxiedToText(p: PublishedPort): string {
  return `${endpoint(p.container.address, p.container.port)}${p.bridge ? ` on ${p.bridge}` : ''}`;
}

function traceJson(packet: Packet, trace: Trace, file: string, proxy: PublishedPort | undefined) {
  return {
    file,
    packet,
    verdict: trace.verdict,
    reaches: {
      kind: trace.reaches.kind,
      ...(trace.reaches.address !== undefined ? { address: trace.reaches.address } : {}),
      ...(trace.reaches.port !== undefined ? { port: trace.reaches.port } : {}),
      ...(trace.reaches.interface !== undefined ? { interface: trace.reaches.interface } : {}),
      ...(proxy ? { proxiedTo: proxiedToJson(proxy) } : {}),
    },
    steps: trace.steps.map((s) => ({
      hook: s.hook, table: s.table, chain: s.chain, line: s.line, rule: s.rule, matched: s.matched, action: s.action,
      file: s.file, position: s.position, ...(s.rewrite !== undefined ? { rewrite: s.rewrite } : {}),
    })),
    uncertain: trace.uncertain.map((u) => ({ line: u.line, reason: u.reason })),
    reason: trace.reason,
    final: trace.final,
  };
}

function reachText(trace: Trace, proxy: PublishedPort | undefined): string {
  const r = trace.reaches;
  const to = r.address ? (r.port !== undefined ? endpoint(r.address, r.port) : r.address) : '';
  switch (r.kind) {
    case 'container': return `delivered to container ${to}${r.interface ? ` on ${r.interface}` : ''}`;
    case 'host': {
      const proxied = proxy ? `, where docker-proxy carries it to container ${proxiedToText(proxy)}` : '';
      return `delivered to the host${to ? ` (${to})` : ''}${proxied}`;
    }
    case 'forward': return `forwarded${r.interface ? ` out ${r.interface}` : ''}${to ? ` to ${to}` : ''}`;
    case 'none': return 'reaches nothing';
  }
}

function traceText(file: string, packet: Packet, trace: Trace, notes: readonly string[], proxy: PublishedPort | undefined): string {
  const lines = [`${file}`, `packet: ${packetText(packet)}`, ...notes.map((n) => `  (${n})`), ''];
  for (const s of trace.steps) {
    const where = s.line > 0 ? (s.file === file ? `line ${s.line}` : `${s.file}:${s.line}`) : 'policy';
    const matched = s.matched === 'unknown' ? ' (match uncertain)' : s.matched ? '' : ' (no match)';
    const rewrite = s.rewrite ? ` → ${s.rewrite}` : '';
    lines.push(`  ${s.hook.padEnd(11)} ${`${s.table}/${s.chain}`.padEnd(28)} ${where}: ${s.rule} ⇒ ${s.action}${rewrite}${matched}`);
  }
  lines.push('', `verdict: ${trace.verdict} — ${reachText(trace, proxy)}`, `why: ${trace.reason}`);
  if (trace.uncertain.length > 0) {
    lines.push('uncertain:');
    for (const u of trace.uncertain) lines.push(`  line ${u.line}: ${u.reason}`);
  }
  return `${safeText(lines.join('\n'))}\n`;
}

function singleHost(hosts: readonly Host[], command: string): Host {
  if (hosts.length !== 1) {
    throw new UsageError(`${command} takes one host: an iptables-save, optionally with its ip6tables-save (got ${hosts.length} hosts)`,
      'pair files by name: web.v4.txt + web.v6.txt, iptables-save.txt + ip6tables-save.txt, or give one stream holding both');
  }
  return hosts[0]!;
}

export function runTrace(paths: readonly string[], flags: TraceFlags, io: CliIO): number {
  const { hosts, failed } = loadHosts(paths, flags, io);
  if (failed) return EXIT.trouble;
  const host = singleHost(hosts, 'trace');
  const { packet, notes } = packetFromFlags(flags, flags.extIf ?? []);
  const view: RulesetView | undefined = packet.family === 'ipv6' ? host.ipv6 : host.ipv4;
  if (!view) throw new UsageError(`no ${packet.family === 'ipv6' ? 'ip6tables' : 'iptables'}-save in the input for this ${packet.family} packet`);
  const trace = view.simulator.trace(packet);
  // A connection delivered to the host on a published port is docker-proxy's to carry on.
  const r = trace.reaches;
  const proxy = trace.verdict === 'accept' && r.kind === 'host' && r.address !== undefined && r.port !== undefined
    ? proxyServing(view.docker, view === host.ipv6 ? host.ipv4?.docker : undefined, trace.final.proto, r.address, r.port)
    : undefined;
  io.stdout.write(flags.json ? json(traceJson(packet, trace, view.ruleset.file, proxy)) : traceText(view.ruleset.file, packet, trace, notes, proxy));
  return EXIT.clean;
}

// ---------------------------------------------------------------- exposure

/** IPv6 host ports docker-proxy serves for an IPv4 publication, by `proto/port` (see proxiedOverIpv6). */
type ProxiedPorts = ReadonlyMap<string, PublishedPort>;
const NONE_PROXIED: ProxiedPorts = new Map();

function proxiedFor(proxied: ProxiedPorts, e: ExposureEntry): PublishedPort | undefined {
  return proxied.get(`${e.proto}/${e.hostPort}`);
}

function entryJson(e: ExposureEntry, proxied: ProxiedPorts = NONE_PROXIED) {
  const proxy = proxiedFor(proxied, e);
  return {
    proto: e.proto,
    hostAddress: e.hostAddress,
    hostPort: e.hostPort,
    ...(e.container ? { container: { address: e.container.address, port: e.container.port } } : {}),
    ...(e.bridge !== undefined ? { bridge: e.bridge } : {}),
    reachableFrom: e.reachableFrom.map((r) => ({ interface: r.interface, sources: [...r.sources] })),
    conditionallyReachableFrom: e.conditionallyReachableFrom.map((r) => ({
      interface: r.interface, sources: [...r.sources], conditions: r.conditions.map((c) => ({ line: c.line, reason: c.reason })),
      whenNoneMatch: r.whenNoneMatch,
    })),
    ...(e.blockedBy !== undefined ? { blockedBy: e.blockedBy } : {}),
    ...(e.partial !== undefined ? { partial: e.partial } : {}),
    ...(e.otherPorts ? { otherPorts: true } : {}),
    ...(proxy ? { proxiedTo: proxiedToJson(proxy) } : {}),
  };
}

function exposureJson(file: string, x: RulesetExposure, proxied: ProxiedPorts) {
  return {
    family: x.family, file,
    published: x.published.map((e) => entryJson(e)), direct: x.direct.map((e) => entryJson(e)), host: x.host.map((e) => entryJson(e, proxied)),
  };
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "on eth0, eth1 from 10.0.0.0/8; on * from 0.0.0.0/0": interfaces with the same sources share their list. */
function interfacesText(reach: readonly ReachableFrom[]): string {
  const bySources = new Map<string, string[]>();
  for (const r of reach) {
    const key = r.sources.join(', ');
    const names = bySources.get(key);
    if (names) names.push(r.interface); else bySources.set(key, [r.interface]);
  }
  return [...bySources].map(([sources, names]) => `on ${names.join(', ')} from ${sources}`).join('; ');
}

function entryText(e: ExposureEntry, proxied: ProxiedPorts = NONE_PROXIED): string {
  const proxy = proxiedFor(proxied, e);
  const target = e.container ? ` → ${endpoint(e.container.address, e.container.port)}${e.bridge ? ` (${e.bridge})` : ''}`
    : proxy ? ` (docker-proxy → ${proxiedToText(proxy)})` : '';
  const parts: string[] = [];
  if (e.reachableFrom.length > 0) parts.push(`reachable ${interfacesText(e.reachableFrom)}`);
  for (const whenNoneMatch of [true, false]) {
    const maybe = e.conditionallyReachableFrom.filter((r) => r.whenNoneMatch === whenNoneMatch);
    if (maybe.length === 0) continue;
    const depends = conditionsText(mergeConditions(maybe.map((r) => r.conditions)));
    const how = whenNoneMatch ? 'unless stopped by' : 'only if let in by';
    parts.push(`maybe reachable ${interfacesText(maybe)}, ${how} ${depends}`);
  }
  if (parts.length === 0) parts.push('reachable from nowhere');
  if (e.blockedBy) parts.push(e.blockedBy);
  if (e.partial) parts.push(`approximate: ${e.partial}`);
  const stands = e.otherPorts ? ' (stands for every port no rule names)' : '';
  return `  ${e.proto} ${endpoint(e.hostAddress, e.hostPort)}${target}${stands}: ${parts.join('; ')}`;
}

function exposureText(file: string, x: RulesetExposure, proxied: ProxiedPorts): string {
  const section = (title: string, entries: readonly ExposureEntry[], p: ProxiedPorts = NONE_PROXIED) =>
    [`${title}:`, ...(entries.length > 0 ? entries.map((e) => entryText(e, p)) : ['  (none)'])];
  return [
    `${file} (${x.family})`,
    ...section('Published container ports', x.published),
    ...section('Containers reachable by direct routing', x.direct),
    ...section('Host ports open in INPUT', x.host, proxied),
  ].join('\n');
}

/** For the IPv6 view of a host with both dumps: the ports docker-proxy serves there for IPv4 publications. */
function proxiedPortsOf(host: Host, view: RulesetView): ProxiedPorts {
  if (view !== host.ipv6 || !host.ipv4) return NONE_PROXIED;
  return new Map(proxiedOverIpv6(host.ipv4.docker, view.docker).map((p) => [`${p.proto}/${p.hostPort}`, p]));
}

export function runExposure(paths: readonly string[], flags: HostFlags, io: CliIO): number {
  const { hosts, failed } = loadHosts(paths, flags, io);
  const results = hosts.flatMap((h) => h.views.map((v) => {
    const proxied = proxiedPortsOf(h, v);
    // Ports docker-proxy listens on are asked about by name, even when no ip6tables rule names them.
    const exposure = proxied.size > 0 && isRulesetSimulator(v.simulator)
      ? computeExposure(v.simulator, undefined, { extraHostPorts: [...proxied.values()].map((p) => ({ proto: p.proto, port: p.hostPort })) })
      : v.simulator.exposure();
    return { file: v.ruleset.file, exposure, proxied };
  }));
  if (flags.json) io.stdout.write(json({ rulesets: results.map((r) => exposureJson(r.file, r.exposure, r.proxied)) }));
  else io.stdout.write(`${safeText(results.map((r) => exposureText(r.file, r.exposure, r.proxied)).join('\n\n'))}\n`);
  return failed ? EXIT.trouble : EXIT.clean;
}
