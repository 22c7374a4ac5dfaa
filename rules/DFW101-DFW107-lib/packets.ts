// Shared by the DFW101–DFW107 rules: which interfaces count as external, which
// addresses make readable proof packets, the packets themselves, and how a
// trace reads in a message. The simulator walks; this only asks and reads.
// Helpers that are the same for DFW108–DFW114 come from their lib.

import type { Family, Rule, Ruleset } from '../../grammar/ast.ts';
import type { LintSettings } from '../../src/engine/types.ts';
import { AddressSet, bigintToAddress } from '../../src/model/addrset.ts';
import type { PublishedPort } from '../../src/model/docker-types.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import { candidateInterfaces, OTHER_INTERFACE, representativeLocalAddress } from '../../src/sim/exposure.ts';
import type { L4Protocol, Packet, Trace, TraceStep } from '../../src/sim/types.ts';
import { chainSpan, cidrList, OTHER_INTERFACE_PACKET_NAME, publicSources, stepRule } from '../DFW108-DFW114-lib/trace.ts';

/** The interface name a packet gets when it stands for "any other interface" (as exposure() uses it). */
const OTHER_INTERFACE_NAME = OTHER_INTERFACE_PACKET_NAME;

export interface ExternalInterface {
  /** Given to the packet. */
  readonly name: string;
  /** For messages: `eth0`, `any interface`. */
  readonly label: string;
  /** For commands: `-i eth0`, or undefined when it stands for any interface. */
  readonly flag?: string;
}

function externalInterface(name: string, alone: boolean): ExternalInterface {
  if (name === OTHER_INTERFACE || name === OTHER_INTERFACE_NAME) {
    return { name: OTHER_INTERFACE_NAME, label: alone ? 'any interface' : 'any other interface' };
  }
  return { name, label: name, flag: `-i ${name}` };
}

/** Names the kernel and udev give network cards (eth0, ens3, enp0s31f6, wlan0, bond0, ppp0, eth0.100). */
const NETWORK_CARD = /^(?:eth|en|em|wl|bond|team|ppp|ib|vlan)/;

/**
 * The interfaces traffic from outside arrives on: the configured ones; else the
 * ones the administrator's rules name (`-i eth0`, not Docker's bridges), the vocabulary the admin filters
 * in, plus "any other interface" when none of them is a network card (rules that
 * only name wg0 or tailscale0 say nothing about the uplink); else any interface.
 * `withOthers` always adds "any other interface", for questions about every packet
 * rather than about exposure.
 */
export function externalInterfaces(sim: RulesetSimulator, settings: LintSettings, withOthers = false): readonly ExternalInterface[] {
  const key = `${withOthers} ${settings.externalInterfaces.join(' ')}`;
  const cached = interfacesOf.get(sim)?.get(key);
  if (cached) return cached;
  const found = findExternalInterfaces(sim, settings, withOthers);
  interfacesOf.set(sim, (interfacesOf.get(sim) ?? new Map()).set(key, found));
  return found;
}

const interfacesOf = new WeakMap<RulesetSimulator, Map<string, readonly ExternalInterface[]>>();

function findExternalInterfaces(sim: RulesetSimulator, settings: LintSettings, withOthers: boolean): ExternalInterface[] {
  if (settings.externalInterfaces.length > 0) return settings.externalInterfaces.map((n) => externalInterface(n, false));
  // Docker's own rules name only its bridges, lo and WSL2's loopback0: the admin's rules say which interfaces face out.
  const adminNamed = new Set<string>();
  for (const table of sim.compiled.ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) if (rule.inInterface && !sim.docker.dockerRules.has(rule)) adminNamed.add(rule.inInterface.name);
    }
  }
  const named = candidateInterfaces(sim, undefined).filter((n) => n !== OTHER_INTERFACE && adminNamed.has(n));
  if (named.length === 0) return [externalInterface(OTHER_INTERFACE, true)];
  const others = withOthers || !named.some((n) => NETWORK_CARD.test(n));
  return (others ? [...named, OTHER_INTERFACE] : named).map((n) => externalInterface(n, false));
}

/** Every address a connection from the internet may come from (not private, loopback, link-local, multicast, reserved). */
export function internetSources(family: Family): AddressSet {
  return publicSources(family);
}

/** 127.0.0.0/8 or ::1. */
const LOOPBACK: Readonly<Record<Family, AddressSet>> = {
  ipv4: AddressSet.fromCidrs('ipv4', ['127.0.0.0/8']),
  ipv6: AddressSet.fromCidrs('ipv6', ['::1/128']),
};

export function isLoopback(family: Family, address: string): boolean {
  return LOOPBACK[family].containsText(address);
}

const PREFERRED: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['203.0.113.50', '198.51.100.50', '192.0.2.50', '100.64.0.50', '10.99.0.50', '192.168.99.50', '172.31.99.50'],
  ipv6: ['2001:db8:ffee::50', '2001:db8::50', 'fd00:99::50'],
};

/** A readable member of the set (a documentation or public address when it has one), never one of `avoid`. */
export function pickAddress(family: Family, set: AddressSet, avoid: readonly string[] = []): string | undefined {
  const usable = avoid.length === 0 ? set : set.subtract(AddressSet.fromCidrs(family, avoid));
  const hit = PREFERRED[family].find((a) => usable.containsText(a));
  if (hit) return hit;
  for (const part of [usable.intersect(internetSources(family)), usable]) {
    const first = part.sample();
    if (first === undefined) continue;
    // Skip a network's .0 when the next address is in the set too.
    const next = first + 1n;
    return bigintToAddress(family, part.contains(next) ? next : first);
  }
  return undefined;
}

const hostAddressOf = new WeakMap<RulesetSimulator, string>();

/** One of the host's own addresses (given with --local-addr, else one no rule names); computed once per simulator. */
export function hostAddress(sim: RulesetSimulator): string {
  let address = hostAddressOf.get(sim);
  if (address === undefined) {
    address = representativeLocalAddress(sim);
    hostAddressOf.set(sim, address);
  }
  return address;
}

/** The address a connection to a published port is sent to: its host address, else one of the host's. */
export function publishedDestination(sim: RulesetSimulator, port: PublishedPort): string {
  return port.hostAddress ?? hostAddress(sim);
}

/** A new connection (bare SYN for TCP) arriving on an interface. */
export function newConnection(family: Family, proto: L4Protocol, src: string, dst: string, dport: number, inInterface: string): Packet {
  return { family, proto, src, dst, dport, sport: 40000, inInterface, state: 'NEW' };
}

/** The port a container's outgoing connection uses: inside Linux's default ephemeral range 32768–60999. */
export const CONTAINER_EPHEMERAL_PORT = 45678;

/** A reply to a connection a container opened to remote:remotePort, arriving on an interface (already de-NATed by conntrack). */
export function replyToContainer(
  family: Family, proto: L4Protocol, remote: string, remotePort: number, container: string, inInterface: string,
): Packet {
  return {
    family, proto, src: remote, dst: container, sport: remotePort, dport: CONTAINER_EPHEMERAL_PORT, inInterface,
    state: 'ESTABLISHED',
    original: { src: container, dst: remote, sport: CONTAINER_EPHEMERAL_PORT, dport: remotePort, direction: 'REPLY' },
  };
}

/** `tcp 203.0.113.50:40000 → 198.51.100.10:8080` */
export function packetText(packet: Packet): string {
  const host = (a: string) => (packet.family === 'ipv6' ? `[${a}]` : a);
  return `${packet.proto} ${host(packet.src)}:${packet.sport ?? 40000} → ${host(packet.dst)}:${packet.dport ?? 0}`;
}

/** `172.18.0.2:80`, `[fd00::2]:80` */
export function endpoint(family: Family, address: string, port: number): string {
  return family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** How a published port reads: `tcp 0.0.0.0:8080 → 172.18.0.2:80`. */
export function publishedText(family: Family, port: PublishedPort): string {
  const any = family === 'ipv6' ? '::' : '0.0.0.0';
  if (port.via === 'routed') return `${port.proto} ${endpoint(family, port.container.address, port.container.port)} (routed, no NAT)`;
  return `${port.proto} ${endpoint(family, port.hostAddress ?? any, port.hostPort)} → ${endpoint(family, port.container.address, port.container.port)}`;
}

/** `nat DOCKER line 64`, `the filter FORWARD policy (line 13)`. */
export function stepLabel(step: TraceStep): string {
  if (step.position === 0) return `the ${step.table} ${step.chain} policy${step.line > 0 ? ` (line ${step.line})` : ''}`;
  return `${step.table} ${step.chain} line ${step.line}`;
}

/** The last ACCEPT (rule or policy) in the filter table: what let the packet through. */
export function acceptingStep(trace: Trace): TraceStep | undefined {
  for (let i = trace.steps.length - 1; i >= 0; i--) {
    const s = trace.steps[i]!;
    if (s.table === 'filter' && (s.action === 'accept' || s.action === 'policy-accept')) return s;
  }
  return undefined;
}

/** The step that DNATed the packet. */
export function dnatStep(trace: Trace): TraceStep | undefined {
  return trace.steps.find((s) => s.action === 'dnat');
}

/** The step that dropped or rejected the packet (rule or policy). */
export function decidingStep(trace: Trace): TraceStep | undefined {
  const last = trace.steps[trace.steps.length - 1];
  return last && (last.action === 'drop' || last.action === 'reject' || last.action === 'policy-drop') ? last : undefined;
}

/** Whether the trace evaluated (and matched) this rule. */
export function traceMatched(ruleset: Ruleset, trace: Trace, rule: Rule): boolean {
  return trace.steps.some((s) => s.matched !== false && stepRule(ruleset, s) === rule);
}

/** `DNATed to 172.18.0.2:80 by nat DOCKER line 64, accepted by filter DOCKER line 36, delivered to …` */
export function pathSummary(trace: Trace): string {
  const parts: string[] = [];
  const dnat = dnatStep(trace);
  if (dnat) {
    const to = dnat.rewrite?.split(' → ')[1];
    parts.push(`DNATed${to ? ` to ${to}` : ''} by ${stepLabel(dnat)}`);
  }
  const accept = acceptingStep(trace);
  if (trace.verdict === 'accept') {
    if (accept) parts.push(`accepted by ${stepLabel(accept)}`);
    parts.push(trace.reason);
  } else {
    parts.push(trace.reason);
  }
  return parts.join(', ');
}

/**
 * The administrator's own rule that let the packet through: an ACCEPT, or a
 * RETURN that tests something (not a chain's bare trailing RETURN). Such a rule
 * on the path is a decision to let this traffic in.
 */
export function decisionOnPath(ruleset: Ruleset, trace: Trace, isDecision: (rule: Rule) => boolean): Rule | undefined {
  for (const s of trace.steps) {
    if ((s.action !== 'accept' && s.action !== 'return') || s.matched === false) continue;
    const rule = stepRule(ruleset, s);
    if (!rule || !isDecision(rule)) continue;
    if (s.action === 'return' && isBare(rule)) continue;
    return rule;
  }
  return undefined;
}

function isBare(rule: Rule): boolean {
  return !rule.protocol && !rule.source && !rule.destination && !rule.inInterface && !rule.outInterface && !rule.fragment
    && rule.matches.every((m) => m.kind === 'comment');
}

/** `every source (0.0.0.0/0)`, `every source but fe80::/10`, or the CIDRs themselves. */
export function sourcesText(set: AddressSet): string {
  const missing = set.complement().toCidrs();
  if (missing.length === 0) return `every source (${set.family === 'ipv6' ? '::/0' : '0.0.0.0/0'})`;
  if (missing.length <= 3) return `every source but ${missing.join(', ')}`;
  return cidrList(set.toCidrs());
}

export { chainSpan, cidrList, stepRule };
