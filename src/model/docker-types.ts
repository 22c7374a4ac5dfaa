// What dockfw-lint knows about the Docker daemon that wrote (part of) a ruleset.
// Recognised from the rules alone (see docker.ts); no daemon is asked.

import type { Family, Rule } from '../../grammar/ast.ts';

/**
 * Chain layouts Docker has written over the years (see README's design notes):
 * - `pre-28`: 20.10–27.x, per-bridge rules in FORWARD, DOCKER-ISOLATION-STAGE-1/2 with RETURNs.
 * - `28.0.0`: ipset rules in FORWARD, per-bridge rules appended.
 * - `28.0.1-28.1`: DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE, per-port raw drops.
 * - `28.2`: per-container raw drops (28.2.0–28.5.x; `dockerUser.returnRule` tells 28.2.2+ apart).
 * - `29`: DOCKER-INTERNAL, no isolation chains.
 * - `none`: no Docker chains at all (iptables: false, the nftables backend, or no Docker).
 */
export type DockerLayout = 'none' | 'pre-28' | '28.0.0' | '28.0.1-28.1' | '28.2' | '29';

export type GatewayMode = 'nat' | 'nat-unprotected' | 'routed' | 'isolated';

export interface Subnet {
  readonly address: string;
  readonly prefixLength: number;
}

export interface DockerBridge {
  readonly name: string;
  /** From MASQUERADE/internal rules; empty when the dump does not show it. */
  readonly subnets: readonly Subnet[];
  /** `--internal` networks report `isolated`: Docker writes the same rules for both. */
  readonly gatewayMode: GatewayMode;
  readonly internal: boolean;
  /** Inter-container communication on this bridge. */
  readonly icc: boolean;
  /** Docker 28+ raw PREROUTING drops protect its containers from direct routing. */
  readonly rawProtected: boolean;
}

export interface DockerContainer {
  readonly address: string;
  readonly bridge: string;
}

export type PublishedProtocol = 'tcp' | 'udp' | 'sctp';

/** One `-p [hostAddress:]hostPort:containerPort/proto`, as its DNAT (and filter ACCEPT) rules show it. */
export interface PublishedPort {
  readonly proto: PublishedProtocol;
  /** Undefined: every host address (0.0.0.0 / ::). */
  readonly hostAddress?: string;
  readonly hostPort: number;
  readonly container: { readonly address: string; readonly port: number };
  /** '' only when nothing in the dump tells which of several subnet-less bridges holds the container. */
  readonly bridge: string;
  /** The nat DOCKER DNAT rule. Absent for routed-mode publications (filter ACCEPT only). */
  readonly dnatRule?: Rule;
  /** The filter DOCKER ACCEPT rule for the container port, when present. */
  readonly acceptRule?: Rule;
  /**
   * How the port is published: `dnat` (nat DOCKER, the usual `-p`), `ingress` (swarm
   * routing mesh: DNAT in nat DOCKER-INGRESS to the ingress sandbox on docker_gwbridge,
   * port kept) or `routed` (gateway mode routed: filter ACCEPT only, the host address is
   * the container's own). Optional for compatibility; absent means `dnat`.
   */
  readonly via?: 'dnat' | 'ingress' | 'routed';
}

export interface DockerUserChain {
  readonly exists: boolean;
  /** FORWARD's first rule jumps to DOCKER-USER (as Docker arranges it). */
  readonly firstInForward: boolean;
  /** The FORWARD rule that jumps to it, if any. */
  readonly jumpRule?: Rule;
  /** The unconditional `-j RETURN` Docker ≤ 28.2.1 appends, if present. */
  readonly returnRule?: Rule;
}

export interface DockerModel {
  readonly family: Family;
  readonly layout: DockerLayout;
  /** A human description: "Docker 28.0.1–28.1.x (DOCKER-FORWARD, per-port raw drops)". */
  readonly description: string;
  readonly bridges: readonly DockerBridge[];
  readonly containers: readonly DockerContainer[];
  readonly published: readonly PublishedPort[];
  readonly dockerUser: DockerUserChain;
  readonly userlandProxy: 'on' | 'off' | 'unknown';
  readonly swarm: boolean;
  /** Names of Docker-owned chains present (DOCKER, DOCKER-FORWARD, …; DOCKER-USER excluded: it is the user's). */
  readonly dockerChains: ReadonlySet<string>;
  /** Rules Docker itself wrote (any table), by identity. Everything else was added by someone else. */
  readonly dockerRules: ReadonlySet<Rule>;
  /** Bridge names referenced anywhere (interfaces docker0, br-*), even when Docker's chains are absent. */
  readonly referencedBridges: readonly string[];
  /**
   * Every layout the dump is consistent with, oldest first, when it cannot tell them
   * apart (28.0.1–28.1 and 28.2 differ only in the raw table); `layout` is then the newest.
   */
  readonly layoutCandidates?: readonly DockerLayout[];
  /** For each rule in `dockerRules`, the id of the Docker template it matched (`nat-dnat`, `filter-port-accept`, …). */
  readonly dockerRuleTemplates?: ReadonlyMap<Rule, string>;
}
