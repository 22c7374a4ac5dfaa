// The host around a ruleset: its own addresses, its external interfaces, its
// Docker bridges, and where a destination routes. The dump does not hold
// routes, so routing follows the Docker model: a bridge subnet routes to that
// bridge, a local address is delivered locally, anything else leaves by an
// external interface.

import type { Family } from '../../grammar/ast.ts';
import type { DockerModel, Subnet } from './docker-types.ts';
import { AddressSet, addressToBigint, bigintToAddress } from './addrset.ts';

export interface HostBridge {
  readonly name: string;
  readonly subnets: readonly Subnet[];
}

export type Route =
  | { readonly kind: 'local' }
  | { readonly kind: 'bridge'; readonly interface: string }
  | { readonly kind: 'external'; readonly interface: string };

export interface HostModel {
  readonly family: Family;
  /** The host's own addresses known for sure: loopback, those given with --local-addr, bridge gateways. */
  readonly localAddresses: readonly string[];
  /** Whether local addresses were given by the user (else every non-bridge unicast address counts as local). */
  readonly localAddressesKnown: boolean;
  readonly externalInterfaces: readonly string[];
  /** Whether external interfaces were given (else `externalInterfaces` holds the default). */
  readonly externalInterfacesKnown: boolean;
  readonly bridges: readonly HostBridge[];
  route(destination: string): Route;
  isLocal(address: string): boolean;
}

export interface HostOptions {
  readonly localAddresses?: readonly string[];
  readonly externalInterfaces?: readonly string[];
}

/** The default external interface name used when none is given. */
export const DEFAULT_EXTERNAL_INTERFACE = 'eth0';

export function buildHostModel(family: Family, docker: DockerModel, options: HostOptions = {}): HostModel {
  const bridges: HostBridge[] = docker.bridges.map((b) => ({ name: b.name, subnets: b.subnets }));
  for (const name of docker.referencedBridges) {
    if (!bridges.some((b) => b.name === name)) bridges.push({ name, subnets: [] });
  }
  const externalInterfaces = options.externalInterfaces && options.externalInterfaces.length > 0
    ? [...options.externalInterfaces]
    : [DEFAULT_EXTERNAL_INTERFACE];
  const given = (options.localAddresses ?? []).filter((a) => (family === 'ipv6') === a.includes(':'));
  const loopback = family === 'ipv4' ? '127.0.0.0/8' : '::1/128';
  const hostBits = family === 'ipv4' ? 32 : 128;
  const containersOn = (bridge: string) => [
    ...docker.containers.filter((c) => c.bridge === bridge).map((c) => `${c.address}/${hostBits}`),
    ...docker.published.filter((p) => p.bridge === bridge).map((p) => `${p.container.address}/${hostBits}`),
  ];
  // Docker gives each bridge the first address of its subnet: the host's own address there.
  // Not when the dump shows a container at that address (a bridge made with another
  // --gateway, or by hand): Docker's IPAM never gives a container its network's gateway.
  const valueOf = (address: string) => addressToBigint(family, address.split('/')[0] ?? '');
  const containerValues = new Set(bridges.flatMap((b) => containersOn(b.name).map(valueOf)));
  const gateways = bridges.flatMap((b) => b.subnets.map((s) => gatewayOf(family, s))).filter((g) => !containerValues.has(valueOf(g)));
  const local = AddressSet.fromCidrs(family, [loopback, ...given, ...gateways]);
  // A container is routed to its bridge even when the dump does not show the bridge's
  // subnet (routed networks have no MASQUERADE naming it).
  const bridgeSets = bridges.map((b) => ({
    name: b.name,
    set: AddressSet.fromCidrs(family, [...b.subnets.map((s) => `${s.address}/${s.prefixLength}`), ...containersOn(b.name)]),
  }));
  const anyBridge = bridgeSets.reduce((acc, b) => acc.union(b.set), AddressSet.empty(family));
  const multicast = AddressSet.fromCidrs(family, family === 'ipv4' ? ['224.0.0.0/4', '255.255.255.255/32'] : ['ff00::/8']);
  const routes = new Map<string, Route>();
  const external: Route = { kind: 'external', interface: externalInterfaces[0] ?? DEFAULT_EXTERNAL_INTERFACE };
  const computeRoute = (destination: string): Route => {
    const value = valueOf(destination);
    if (value === undefined) return external;
    if (local.contains(value)) return { kind: 'local' };
    for (const b of bridgeSets) if (b.set.contains(value)) return { kind: 'bridge', interface: b.name };
    // Without --local-addr every other unicast address is taken to be the host's own:
    // the usual question is about traffic to the host, and a dump holds no routes.
    if (given.length === 0 && !multicast.contains(value)) return { kind: 'local' };
    return external;
  };
  return {
    family,
    localAddresses: [loopback, ...given, ...gateways],
    localAddressesKnown: given.length > 0,
    externalInterfaces,
    externalInterfacesKnown: (options.externalInterfaces?.length ?? 0) > 0,
    bridges,
    route(destination: string): Route {
      const cached = routes.get(destination);
      if (cached) return cached;
      const route = computeRoute(destination);
      if (routes.size < 65536) routes.set(destination, route);
      return route;
    },
    isLocal(address: string): boolean {
      const value = addressToBigint(family, address.split('/')[0] ?? '');
      if (value === undefined) return false;
      if (local.contains(value)) return true;
      if (anyBridge.contains(value) || multicast.contains(value)) return false;
      return given.length === 0;
    },
  };
}

function gatewayOf(family: Family, subnet: Subnet): string {
  const base = AddressSet.cidr(family, subnet.address, subnet.prefixLength).sample() ?? 0n;
  const bits = family === 'ipv4' ? 32 : 128;
  return `${bigintToAddress(family, base + (subnet.prefixLength < bits ? 1n : 0n))}/${bits}`;
}
