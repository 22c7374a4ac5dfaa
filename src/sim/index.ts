// The simulator over one ruleset: `trace` walks a concrete packet, `exposure`
// answers who can open new connections to what.

import type { Ruleset } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import type { DockerModel } from '../model/docker-types.ts';
import { buildHostModel, type HostModel, type HostOptions } from '../model/host.ts';
import type { Simulator } from '../engine/types.ts';
import { MATCH, NO, TCP_FLAG_BITS, type HostFacts, type SimPacket } from './compile.ts';
import { computeExposure } from './exposure.ts';
import { addressValue, compileRuleset, formatAddress, toTrace, walk, type CompiledRuleset } from './traverse.ts';
import type { Packet, RulesetExposure, Trace } from './types.ts';

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

export function toSimPacket(packet: Packet, host: HostModel): SimPacket {
  const family = packet.family;
  const proto = packet.proto === 'other' ? (packet.protoNumber ?? 0) : PROTOCOL_NUMBERS[packet.proto]!;
  const state = packet.state ?? 'NEW';
  const defaultFlags = proto === 6 ? (state === 'NEW' ? ['SYN'] : ['ACK']) : [];
  const tcpFlags = (packet.tcpFlags ?? defaultFlags).reduce((a, f) => a | (TCP_FLAG_BITS[f.toUpperCase()] ?? 0), 0);
  const srcValue = addressValue(family, packet.src);
  const dstValue = addressValue(family, packet.dst);
  // Canonical text: chain indexes are keyed on it (2001:DB8::1 and 2001:db8::1 are one address).
  const src = formatAddress(family, srcValue);
  const dst = formatAddress(family, dstValue);
  const sport = packet.sport ?? 40000;
  const dport = packet.dport ?? 0;
  const original = packet.original;
  const orig = original && original.direction === 'ORIGINAL'
    ? { src: original.src, dst: original.dst, srcValue: addressValue(family, original.src), dstValue: addressValue(family, original.dst), sport: original.sport ?? sport, dport: original.dport ?? dport }
    : original
      ? { src: original.src, dst: original.dst, srcValue: addressValue(family, original.src), dstValue: addressValue(family, original.dst), sport: original.sport ?? dport, dport: original.dport ?? sport }
      : { src, dst, srcValue, dstValue, sport, dport };
  return {
    family, proto, src, dst, srcValue, dstValue, sport, dport,
    icmpType: packet.icmpType ?? (proto === 1 ? 8 : proto === 58 ? 128 : 0), icmpCode: packet.icmpCode ?? 0,
    tcpFlags,
    inInterface: packet.fromHost ? '' : (packet.inInterface ?? host.externalInterfaces[0] ?? 'eth0'),
    outInterface: '',
    state,
    mark: packet.mark ?? 0,
    connmark: packet.connmark ?? 0,
    fragment: packet.fragment ?? false,
    fromHost: packet.fromHost ?? false,
    orig,
    direction: original?.direction ?? 'ORIGINAL',
    dnatted: false,
    snatted: false,
  };
}

export function hostFacts(host: HostModel, docker: DockerModel): HostFacts {
  const extBridges = AddressSet.fromCidrs(host.family, docker.bridges.filter((b) => !b.internal).flatMap((b) => b.subnets.map((s) => `${s.address}/${s.prefixLength}`)));
  return {
    isLocal: (_family, _value, text) => (host.isLocal(text) ? MATCH : NO),
    knownLocal: AddressSet.fromCidrs(host.family, host.localAddresses),
    extBridgeSubnets: extBridges,
    routeLocalnet: new Set(docker.userlandProxy === 'off' ? host.bridges.map((b) => b.name) : []),
  };
}

export interface RulesetSimulator extends Simulator {
  readonly compiled: CompiledRuleset;
  readonly docker: DockerModel;
  readonly facts: HostFacts;
}

/** Whether a simulator is this module's (with the compiled ruleset exposure's helpers walk), not a stand-in. */
export function isRulesetSimulator(simulator: Simulator): simulator is RulesetSimulator {
  return 'compiled' in simulator;
}

export function createSimulator(ruleset: Ruleset, docker: DockerModel, options: HostOptions = {}): RulesetSimulator {
  const host = buildHostModel(ruleset.family, docker, options);
  const compiled = compileRuleset(ruleset);
  const facts = hostFacts(host, docker);
  let exposureCache: RulesetExposure | undefined;
  const simulator: RulesetSimulator = {
    host,
    compiled,
    docker,
    facts,
    trace(packet: Packet): Trace {
      return toTrace(walk(toSimPacket(packet, host), { compiled, host, facts }));
    },
    exposure(): RulesetExposure {
      exposureCache ??= computeExposure(simulator);
      return exposureCache;
    },
  };
  return simulator;
}

export type { Packet, Trace, RulesetExposure } from './types.ts';
