// Which IPv4 publications docker-proxy also serves over IPv6. Since Docker 20.10,
// `-p 8080:80` binds 0.0.0.0:8080 and [::]:8080. When ip6tables has no DNAT for the
// port (an IPv4-only container, or ip6tables off), the IPv6 side is served by
// docker-proxy listening on the host: the connection passes the ip6tables INPUT
// chain, not FORWARD, and the proxy carries it to the container over IPv4.

import type { DockerModel, PublishedPort } from '../docker-types.ts';

/** Published on every host address (not one IPv4 address) by a DNAT: Docker binds it on [::] too. */
export function boundOnAllAddresses(port: PublishedPort): boolean {
  return port.via !== 'routed' && port.dnatRule !== undefined && (port.hostAddress === undefined || port.hostAddress === '0.0.0.0');
}

/** The IPv6 publication of the same port, when ip6tables DNATs it itself. */
export function ipv6Publication(v6: DockerModel | undefined, port: PublishedPort): PublishedPort | undefined {
  return v6?.published.find((p) => p.proto === port.proto && p.hostPort === port.hostPort && p.via !== 'routed'
    && (p.hostAddress === undefined || p.hostAddress === '::'));
}

/**
 * IPv4 publications bound on every address whose IPv6 side only docker-proxy serves: not with
 * the proxy off (nothing listens on [::]), not swarm's routing mesh (IPv4 only), and not when
 * the IPv6 dump DNATs the port itself.
 */
export function proxiedOverIpv6(v4: DockerModel, v6: DockerModel | undefined): PublishedPort[] {
  if (v4.userlandProxy === 'off') return [];
  return v4.published.filter((p) => boundOnAllAddresses(p) && p.via !== 'ingress' && ipv6Publication(v6, p) === undefined);
}

/**
 * The publication whose docker-proxy takes a connection delivered to the host at `address:port`:
 * one bound on that address (or on every address) in the connection's own family — what a
 * connection that escaped the DNAT meets (the host's own to 127.0.0.1 before Docker 28, a
 * container's to a host address) — or, over IPv6, an IPv4 publication served on [::].
 * `v4` is the IPv4 model of the same host, for an IPv6 connection.
 */
export function proxyServing(own: DockerModel, v4: DockerModel | undefined, proto: string, address: string, port: number): PublishedPort | undefined {
  const ipv6 = address.includes(':');
  if (own.userlandProxy !== 'off') {
    const same = own.published.find((p) => p.proto === proto && p.hostPort === port && p.via !== 'routed' && p.via !== 'ingress'
      && (p.hostAddress === undefined || p.hostAddress === address || p.hostAddress === (ipv6 ? '::' : '0.0.0.0')));
    if (same) return same;
  }
  if (!ipv6 || !v4) return undefined;
  return proxiedOverIpv6(v4, own).find((p) => p.proto === proto && p.hostPort === port);
}
