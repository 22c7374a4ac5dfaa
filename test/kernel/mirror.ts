// The mirror of a ruleset in network namespaces, for the kernel differential test
// (sim-differential.test.ts): per-family networks and sources, the topology a
// ruleset needs (external clients, the host, one namespace per container), the
// probes sent through it, and how a kernel trace and a simulator trace are put
// side by side. Probes for exposure()'s answers are here too.
import { parse, type Family, type Ruleset } from '../../grammar/index.ts';
import { AddressSet, bigintToAddress, bitsOf } from '../../src/model/addrset.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import type { DockerModel } from '../../src/model/docker-types.ts';
import { createSimulator, type RulesetSimulator } from '../../src/sim/index.ts';
import type { Packet, Trace } from '../../src/sim/types.ts';
import { createRandom } from '../../scripts/gen/prng.mjs';
import type { OracleProbe, OracleProbeResult, OracleTopology } from './oracle.ts';

/**
 * What the mirror of a ruleset uses, per family: each external interface gets its own
 * network (/24, /64) with the host at .10 / ::10 and a client namespace at .50 / ::50;
 * sources probes come from on eth0; sources the kernel drops as martians before any hook
 * decides (`this network`, loopback, multicast, class E; unspecified, v4-mapped, link-local).
 */
export interface FamilyFacts {
  readonly family: Family;
  readonly nets: readonly string[];
  readonly prefixLength: number;
  readonly host: (net: string) => string;
  readonly client: (net: string) => string;
  readonly sources: readonly string[];
  readonly martians: AddressSet;
  readonly loopback: (address: string) => boolean;
  /** The bridge subnet assumed around a container when the dump names none. */
  readonly bridgePrefixLength: number;
}

const FAMILIES: Readonly<Record<Family, FamilyFacts>> = {
  ipv4: {
    family: 'ipv4',
    nets: ['203.0.113', '198.18.1', '198.18.2', '198.18.3', '198.18.4'],
    prefixLength: 24,
    host: (net) => `${net}.10`,
    client: (net) => `${net}.50`,
    sources: ['198.51.100.7', '192.0.2.9', '8.8.4.4', '100.64.3.3', '203.0.113.77'],
    martians: AddressSet.fromCidrs('ipv4', ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3']),
    loopback: (address) => address.startsWith('127.'),
    bridgePrefixLength: 24,
  },
  ipv6: {
    family: 'ipv6',
    nets: ['2001:db8:10::', '2001:db8:11::', '2001:db8:12::', '2001:db8:13::', '2001:db8:14::'],
    prefixLength: 64,
    host: (net) => `${net}10`,
    client: (net) => `${net}50`,
    sources: ['2001:db8:99::7', '2001:db8:98::9', '2001:db8:97::4', '2001:db8:96::3', '2001:db8:10::77'],
    martians: AddressSet.fromCidrs('ipv6', ['::/127', '::ffff:0:0/96', 'fe80::/10', 'ff00::/8']),
    loopback: (address) => address === '::1',
    bridgePrefixLength: 64,
  },
};

export interface Case {
  readonly name: string;
  readonly text: string;
}

export interface Plan {
  readonly facts: FamilyFacts;
  readonly ruleset: Ruleset;
  readonly docker: DockerModel;
  readonly topology: OracleTopology;
  readonly simulator: RulesetSimulator;
  readonly hostAddresses: readonly string[];
  readonly interfaces: readonly string[];
}

/**
 * The IPv4 bridges to mirror, each with a subnet: the one Docker's rules show, else (a dump
 * without MASQUERADE rules shows none) the /24 around the bridge's containers, so the
 * namespaces route them to the bridge as the simulator does.
 */
function bridgesOf(docker: DockerModel, facts: FamilyFacts): { name: string; subnet: { address: string; prefixLength: number } }[] {
  const ofFamily = (address: string) => address.includes(':') === (facts.family === 'ipv6');
  const out: { name: string; subnet: { address: string; prefixLength: number } }[] = [];
  for (const b of docker.bridges) {
    const known = b.subnets.find((s) => ofFamily(s.address));
    if (known) { out.push({ name: b.name, subnet: known }); continue; }
    const container = [...docker.containers.filter((x) => x.bridge === b.name).map((x) => x.address),
      ...docker.published.filter((p) => p.bridge === b.name).map((p) => p.container.address)].find(ofFamily);
    if (!container) continue;
    const base = AddressSet.cidr(facts.family, container, facts.bridgePrefixLength).sample()!;
    out.push({ name: b.name, subnet: { address: bigintToAddress(facts.family, base), prefixLength: facts.bridgePrefixLength } });
  }
  return out;
}

export function plan(c: Case): Plan | undefined {
  const parsed = parse(c.text, { file: c.name });
  const ruleset = parsed.rulesets[0];
  if (parsed.errors.length > 0 || !ruleset || ruleset.tables.length === 0) return undefined;
  // Sets the kernel would need contents for: not mirrored.
  if (ruleset.tables.some((t) => t.chains.some((ch) => ch.rules.some((r) => r.matches.some((m) => m.kind === 'set'))))) return undefined;
  const facts = FAMILIES[ruleset.family];
  const docker = recogniseDocker(ruleset);
  const bridges = bridgesOf(docker, facts);
  const names = new Set<string>();
  for (const table of ruleset.tables) for (const chain of table.chains) for (const rule of chain.rules) {
    for (const i of [rule.inInterface, rule.outInterface]) {
      // Only names Linux could give an interface (iptables takes any text, e.g. `eth0/10`).
      if (i && !i.wildcard && /^[A-Za-z0-9_.-]{1,15}$/.test(i.name) && i.name !== 'lo' && !bridges.some((b) => b.name === i.name) && !docker.referencedBridges.includes(i.name) && !i.name.startsWith('veth') && !i.name.startsWith('docker') && !i.name.startsWith('br-')) names.add(i.name);
    }
  }
  const interfaces = ['eth0', ...[...names].filter((n) => n !== 'eth0').sort()].slice(0, facts.nets.length);
  const ofFamily = (address: string) => address.includes(':') === (facts.family === 'ipv6');
  const specificHostAddresses = docker.published.map((p) => p.hostAddress)
    .filter((a): a is string => !!a && ofFamily(a) && !facts.loopback(a) && !facts.martians.containsText(a) && a !== '0.0.0.0' && a !== '::');
  const hostAddresses = interfaces.map((_, k) => facts.host(facts.nets[k]!));
  const containerAddresses = new Set([...docker.containers.map((x) => x.address), ...docker.published.map((p) => p.container.address)]);
  // A routed network's published "host address" may be the container's own: the container keeps it.
  const eth0Extra = [...new Set(specificHostAddresses)].filter((a) => !hostAddresses.includes(a) && !containerAddresses.has(a));
  const hostBits = bitsOf(facts.family);
  const bridgeSpecs = bridges.map((b) => {
    const subnet = AddressSet.cidr(facts.family, b.subnet.address, b.subnet.prefixLength);
    const base = subnet.sample()!;
    const candidates = [base + 1n, base + 254n].map((v) => bigintToAddress(facts.family, v));
    const gatewayAddress = candidates.find((a) => !containerAddresses.has(a)) ?? candidates[0]!;
    const containers = [...new Set([
      ...docker.containers.filter((x) => x.bridge === b.name).map((x) => x.address),
      ...docker.published.filter((p) => p.bridge === b.name).map((p) => p.container.address),
    ])].filter((a) => ofFamily(a) && subnet.containsText(a) && a !== gatewayAddress).slice(0, 4);
    return { name: b.name, address: `${gatewayAddress}/${b.subnet.prefixLength}`, containers };
  }).filter((b) => b.name.length <= 15);
  const ports = new Set<number>([80, 22, 443, 8080]);
  for (const p of docker.published) { ports.add(p.container.port); ports.add(p.hostPort); }
  const topology: OracleTopology = {
    family: facts.family,
    hostInterfaces: interfaces.map((name, k) => ({
      name, addresses: [`${facts.host(facts.nets[k]!)}/${facts.prefixLength}`, ...(k === 0 ? eth0Extra.map((a) => `${a}/${hostBits}`) : [])],
    })),
    bridges: bridgeSpecs,
    externalClients: interfaces.map((name, k) => ({ interface: name, addresses: [`${facts.client(facts.nets[k]!)}/${facts.prefixLength}`], gateway: k === 0 })),
    listen: { tcp: [...ports].slice(0, 40), udp: [...ports].slice(0, 20) },
  };
  const simulator = createSimulator(ruleset, docker, { localAddresses: [...hostAddresses, ...eth0Extra], externalInterfaces: interfaces });
  return { facts, ruleset, docker, topology, simulator, hostAddresses: [...hostAddresses, ...eth0Extra], interfaces };
}

/**
 * Sources a probe arriving on an external interface may not come from: the kernel's martians,
 * the host's own addresses, and the bridges' networks (containers and gateways live there:
 * a packet from one of their addresses is a martian where it lands, and one from their
 * networks would not come in on eth0).
 */
function unsendableSources(p: Plan): AddressSet {
  const own = AddressSet.fromCidrs(p.facts.family, p.hostAddresses.map((a) => `${a}/${bitsOf(p.facts.family)}`));
  return (p.topology.bridges ?? []).map((b) => String(b.address).split('/'))
    .reduce((acc, [address, length]) => acc.union(AddressSet.cidr(p.facts.family, address!, Number(length))), p.facts.martians.union(own));
}

/** Probes: published ports, direct container access, host ports, host-originated, container-originated. */
export function probes(p: Plan, seed: string, count: number): OracleProbe[] {
  const rng = createRandom(seed);
  const random = () => rng.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const { facts } = p;
  const containers = (p.topology.bridges ?? []).flatMap((b) => (b.containers ?? []) as string[]);
  const published = p.docker.published.filter((x) => containers.includes(x.container.address) && (!x.hostAddress || p.hostAddresses.includes(x.hostAddress) || facts.loopback(x.hostAddress) || x.hostAddress === '0.0.0.0' || x.hostAddress === '::'));
  const sources = [...facts.sources];
  const unsendable = unsendableSources(p);
  const hostBits = bitsOf(facts.family);
  for (const table of p.ruleset.tables) for (const chain of table.chains) for (const rule of chain.rules) {
    const from = rule.source;
    if (from && !from.negated && from.prefixLength >= 8 && !facts.martians.containsText(from.address) && !from.address.startsWith('172.')) {
      const base = AddressSet.cidr(facts.family, from.address, from.prefixLength).sample()!;
      const source = bigintToAddress(facts.family, base + (from.prefixLength < hostBits ? 5n : 0n));
      if (!unsendable.containsText(source)) sources.push(source);
    }
  }
  const out: OracleProbe[] = [];
  for (let id = 1; out.length < count; id++) {
    const r = random();
    const k = Math.floor(random() * p.interfaces.length);
    const ext = { kind: 'ext' as const, interface: p.interfaces[k]! };
    const src = k === 0 ? pick(sources) : facts.client(facts.nets[k]!);
    const hostAddress = p.hostAddresses[k]!;
    const proto = random() < 0.8 ? 'tcp' as const : 'udp' as const;
    if (r < 0.35 && published.length > 0) {
      const x = pick(published);
      if (x.proto === 'sctp') continue;
      const dst = x.hostAddress && p.hostAddresses.includes(x.hostAddress) ? x.hostAddress : hostAddress;
      out.push({ id, from: ext, proto: x.proto, src, dst, dport: x.hostPort });
    } else if (r < 0.5) {
      out.push({ id, from: ext, proto, src, dst: hostAddress, dport: pick([22, 80, 443, 2375, 8080, 9999]) });
    } else if (r < 0.7 && containers.length > 0) {
      const dst = pick(containers);
      const own = published.filter((x) => x.container.address === dst);
      const dport = own.length > 0 && random() < 0.7 ? pick(own).container.port : pick([22, 80, 5432]);
      out.push({ id, from: ext, proto, src, dst, dport });
    } else if (r < 0.8 && published.length > 0) {
      const x = pick(published);
      if (x.proto === 'sctp') continue;
      out.push({ id, from: { kind: 'host' }, proto: x.proto, src: hostAddress, dst: random() < 0.5 ? hostAddress : x.container.address, dport: random() < 0.5 ? x.hostPort : x.container.port });
    } else if (r < 0.9 && containers.length > 1) {
      const from = pick(containers);
      const dst = random() < 0.5 ? pick(containers.filter((c) => c !== from)) : hostAddress;
      const x = published.length > 0 ? pick(published) : undefined;
      if (x?.proto === 'sctp') continue;
      out.push({ id, from: { kind: 'container', address: from }, proto: x?.proto ?? proto, src: from, dst, dport: x ? (dst === hostAddress ? x.hostPort : x.container.port) : 80 });
    } else {
      out.push({ id, from: ext, proto: random() < 0.5 ? 'icmp' : proto, src, dst: containers.length > 0 && random() < 0.5 ? pick(containers) : hostAddress, dport: 53 });
    }
  }
  return out;
}

export function simPacket(p: Plan, probe: OracleProbe): Packet {
  const proto = probe.proto === 'icmp' ? (p.facts.family === 'ipv6' ? 'icmpv6' as const : 'icmp' as const) : probe.proto;
  const base = { family: p.facts.family, proto, src: probe.src, dst: probe.dst, dport: probe.proto === 'icmp' ? undefined : probe.dport, sport: probe.sport };
  if (probe.from.kind === 'host') return { ...base, fromHost: true };
  if (probe.from.kind === 'container') {
    const from = probe.from.address;
    const bridge = (p.topology.bridges ?? []).find((b) => (b.containers as string[] | undefined)?.includes(from));
    return { ...base, inInterface: bridge?.name ?? 'docker0' };
  }
  return { ...base, inInterface: probe.from.interface };
}

/** The path as comparable keys: matched rules and base-chain policies, hook by hook. */
export function kernelPath(result: OracleProbeResult): string[] {
  return result.trace
    .filter((e) => e.position > 0 || e.verdict.startsWith('POLICY'))
    .map((e) => `${e.table}/${e.hook}/${e.chain}#${e.position}`);
}

/** Rules the simulator could not decide (a LOG behind `-m limit`, …): the kernel's choice there is not compared. */
export function undecided(trace: Trace): Set<string> {
  return new Set(trace.steps.filter((s) => s.matched === 'unknown').map((s) => `${s.table}/${s.hook}/${s.chain}#${s.position}`));
}

/**
 * Bridged traffic between two containers of one bridge crosses the IPv4 hooks
 * through br_netfilter, and the kernel traces it a second time from FORWARD on;
 * the first pass is the path.
 */
export function firstPass(path: readonly string[]): string[] {
  const post = path.findIndex((k) => k.includes('/POSTROUTING/'));
  if (post === -1) return [...path];
  let end = post;
  while (end < path.length && path[end]!.includes('/POSTROUTING/')) end++;
  return path.slice(0, end);
}

export function simPath(trace: Trace, p: Plan): string[] {
  const empty = (table: string, chain: string) => {
    const t = p.ruleset.tables.find((x) => x.name === table);
    return (t?.chains.find((c) => c.name === chain)?.rules.length ?? 0) === 0;
  };
  return trace.steps
    .filter((s) => s.matched === true)
    .filter((s) => !(s.position === 0 && s.action === 'policy-accept' && empty(s.table, s.chain)))
    .map((s) => `${s.table}/${s.hook}/${s.chain}#${s.position}`);
}

export function kernelOutcome(result: OracleProbeResult): string {
  const where = result.delivered.where;
  if (where === 'container') return `container ${result.delivered.dst}`;
  if (where === 'host') return 'host';
  if (where === 'ext') return 'forward';
  return 'none';
}

export function simOutcome(trace: Trace, p: Plan, probe: OracleProbe): string {
  if (trace.verdict !== 'accept') return 'none';
  const reach = trace.reaches;
  if (reach.kind === 'container') {
    // A container address the topology has no namespace for swallows the packet.
    const exists = (p.topology.bridges ?? []).some((b) => (b.containers as string[] | undefined)?.includes(reach.address ?? ''));
    if (!exists) return 'none';
    if (probe.from.kind === 'container' && probe.from.address === reach.address) return 'none';
    return `container ${reach.address}`;
  }
  if (reach.kind === 'host') return 'host';
  if (reach.kind === 'forward') return 'forward';
  return 'none';
}

/** A probe whose fate exposure() predicted: reached (`expect`, a kernel outcome) or not. */
export interface ExposureProbe {
  readonly probe: OracleProbe;
  /** The kernel outcome that means "reached" (`container 172.17.0.2`, `host`). */
  readonly reached: string;
  /** What exposure() says. */
  readonly reachable: boolean;
  readonly label: string;
}

/**
 * Probes that check exposure()'s answer itself: for each entry (published port, directly
 * routed container port, host port) and external interface, sources exposure lists as
 * reaching it and sources it lists as not, sent as new connections. Sources it lists only
 * as maybe reaching (undecidable matches) are not sent.
 */
export function exposureProbes(p: Plan, seed: string, perEntry: number): ExposureProbe[] {
  const { facts } = p;
  const rng = createRandom(seed);
  const containers = new Set((p.topology.bridges ?? []).flatMap((b) => (b.containers ?? []) as string[]));
  const unsendable = unsendableSources(p);
  const exposure = p.simulator.exposure();
  const out: ExposureProbe[] = [];
  let id = 100_000;
  const entries = [
    ...exposure.published.map((e) => ({ e, kind: 'published' as const })),
    ...exposure.direct.map((e) => ({ e, kind: 'direct' as const })),
    ...exposure.host.map((e) => ({ e, kind: 'host' as const })),
  ];
  for (const { e, kind } of entries) {
    if ((e.proto !== 'tcp' && e.proto !== 'udp') || e.partial) continue;
    if (kind !== 'host' && (!e.container || !containers.has(e.container.address))) continue;
    const specific = e.hostAddress !== '0.0.0.0' && e.hostAddress !== '::';
    if (kind !== 'direct' && specific && !p.hostAddresses.includes(e.hostAddress)) continue;
    p.interfaces.forEach((name, k) => {
      const reachable = AddressSet.fromCidrs(facts.family, e.reachableFrom.filter((r) => r.interface === name).flatMap((r) => r.sources));
      const maybe = AddressSet.fromCidrs(facts.family, e.conditionallyReachableFrom.filter((r) => r.interface === name).flatMap((r) => r.sources));
      // Only the gateway client (eth0) may send from any address; another sends from its own.
      const sources = k === 0
        ? [...pickSources(reachable.subtract(unsendable), perEntry, rng), ...pickSources(AddressSet.all(facts.family).subtract(reachable).subtract(maybe).subtract(unsendable), perEntry, rng)]
        : [facts.client(facts.nets[k]!)].filter((s) => !maybe.containsText(s));
      for (const src of sources) {
        const dst = kind === 'direct' ? e.container!.address : specific ? e.hostAddress : p.hostAddresses[k]!;
        out.push({
          probe: { id: id++, from: { kind: 'ext', interface: name }, proto: e.proto as 'tcp' | 'udp', src, dst, dport: e.hostPort },
          reached: kind === 'host' ? 'host' : `container ${e.container!.address}`,
          reachable: reachable.containsText(src),
          label: `${kind} ${e.proto} ${e.hostAddress}:${e.hostPort}${e.otherPorts ? ' (every port no rule names)' : ''} from ${src} on ${name}`,
        });
      }
    });
  }
  return out;
}

/** Up to `count` addresses of `set`: its first, then random ones inside its ranges. */
function pickSources(set: AddressSet, count: number, rng: { next(): number }): string[] {
  const cidrs = set.toCidrs();
  if (cidrs.length === 0) return [];
  const family = set.family;
  const picked = new Set<string>();
  for (let i = 0; i < count * 3 && picked.size < count; i++) {
    const [address, length] = cidrs[Math.floor(rng.next() * cidrs.length)]!.split('/');
    const range = AddressSet.cidr(family, address!, Number(length));
    const base = range.sample()!;
    const size = 1n << BigInt(bitsOf(family) - Number(length));
    const offset = size <= 1n ? 0n : BigInt(Math.floor(rng.next() * Math.min(Number(size), 1e9)));
    picked.add(bigintToAddress(family, base + offset));
  }
  return [...picked];
}

/** How many matched steps the trace took before its first undecidable rule; undefined if it met none. */
export function decidedPrefix(trace: Trace): number | undefined {
  const first = trace.steps.findIndex((s) => s.matched === 'unknown');
  if (first === -1) return undefined;
  return trace.steps.slice(0, first).filter((s) => s.matched === true).length;
}
