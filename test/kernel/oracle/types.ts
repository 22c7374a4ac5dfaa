// Types of the kernel oracle (see ./README.md): the topology spec, probes and what the kernel did.

export type OracleBackend = 'nft' | 'legacy';

/** An address with prefix length, "203.0.113.10/24" or "2001:db8::10/64". */
export type Cidr = string;

export interface HostInterfaceSpec {
  /** Interface name in the host namespace, as the ruleset uses it (eth0, ens3...). ≤ 15 chars. */
  readonly name: string;
  readonly address?: Cidr;
  readonly addresses?: readonly Cidr[];
}

/** One container: one address, or several (one namespace with e.g. an IPv4 and an IPv6 address). */
export type ContainerSpec = string | readonly string[] | { readonly addresses: readonly string[] };

export interface BridgeSpec {
  /** docker0, br-<12 hex>... ≤ 15 chars. */
  readonly name: string;
  /** The gateway address(es) of the bridge network, e.g. "172.17.0.1/16". */
  readonly address?: Cidr;
  readonly addresses?: readonly Cidr[];
  /** Hairpin mode on the bridge ports, as Docker sets it with --userland-proxy=false. Without it
   * a bridge never sends a frame back out of the port it came in on. Default false. */
  readonly hairpin?: boolean;
  /** Container addresses; without "/len" they take the prefix length of the bridge address. */
  readonly containers?: readonly ContainerSpec[];
}

export interface ExternalClientSpec {
  /** The host interface this client is plugged into. */
  readonly interface: string;
  /** At least one on-link address (in a subnet of the host interface) per family; others
   * ("198.51.100.7/32") are routed aliases: the host routes their prefix via the client. */
  readonly addresses: readonly Cidr[];
  /** More prefixes the host routes via this client (sources the client may probe from). */
  readonly routes?: readonly string[];
  /** The host's default route points to this client (default: the first client). Any
   * source address may be used from the gateway client. */
  readonly gateway?: boolean;
}

export interface ListenSpec {
  readonly tcp?: readonly number[];
  readonly udp?: readonly number[];
}

export interface OracleTopology {
  /** Inferred from the addresses when absent. */
  readonly family?: 'ipv4' | 'ipv6' | 'dual';
  readonly hostInterfaces: readonly HostInterfaceSpec[];
  readonly bridges?: readonly BridgeSpec[];
  readonly externalClients?: readonly ExternalClientSpec[];
  /** Listeners in every container (and on the host unless hostListen is given):
   * TCP accept + close, UDP echo. */
  readonly listen?: ListenSpec;
  readonly hostListen?: ListenSpec;
  /** net.bridge.bridge-nf-call-ip(6)tables in the host namespace (Docker needs it). Default true. */
  readonly bridgeNfCall?: boolean;
}

export type ProbeOrigin =
  | { readonly kind: 'ext'; readonly interface: string }
  | { readonly kind: 'host' }
  | { readonly kind: 'container'; readonly address: string };

export interface OracleProbe {
  /** Echoed back in the result; any JSON value. */
  readonly id: string | number;
  readonly from: ProbeOrigin;
  /** icmp = echo request (ICMPv6 echo for IPv6 addresses). */
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly src: string;
  readonly dst: string;
  /** Default: unique per probe within the batch (and varying between batches). */
  readonly sport?: number;
  /** Required for tcp and udp. */
  readonly dport?: number;
  /** Letters of FSRPAUEC, default "S". */
  readonly tcpFlags?: string;
  readonly seq?: number;
  readonly ack?: number;
}

export interface OracleBatch {
  /** iptables-save text for IPv4 (absent: empty ruleset). Nothing of the previous batch survives:
   * tables are reset, conntrack is flushed. */
  readonly ruleset?: string;
  /** ip6tables-save text (IPv6 / dual topologies). */
  readonly ruleset6?: string;
  readonly probes: readonly OracleProbe[];
  /** How long to wait for replies after the last probe is sent. Default 20. */
  readonly waitMs?: number;
  /** Then keep waiting until nothing (packet, answer, trace event) has arrived for this long,
   * at most 1 s more: on a loaded machine softirq work can be deferred. Default 5. */
  readonly quietMs?: number;
  /** Keep POLICY:ACCEPT events of empty chains (dropped by default: they change nothing, and
   * legacy shows tables that nft does not have). */
  readonly keepEmptyPolicies?: boolean;
}

/** "synack" | "rst" | "tcp-0x.." (other flags) | "udp" | "echo-reply" | "icmp-<type>-<code>" |
 * "icmp6-<type>-<code>" (ICMP errors), or null: nothing came back to the sender. */
export type OracleReply = string | null;

export interface OracleDelivery {
  /** Where the probe itself arrived (null: nowhere). "host" = the host's own stack received it
   * (it passed every INPUT hook), "container"/"ext" = it arrived on that namespace's interface. */
  readonly where: 'container' | 'host' | 'ext' | null;
  /** Logical node name: "host", "ext:<host interface>", "container:<first address>". */
  readonly namespace: string | null;
  /** The header as it arrived (after NAT). */
  readonly src: string | null;
  readonly sport: number | null;
  readonly dst: string | null;
  readonly dport: number | null;
}

export interface OracleTraceEvent {
  readonly table: string;
  /** PREROUTING | INPUT | FORWARD | OUTPUT | POSTROUTING. */
  readonly hook: string;
  readonly chain: string;
  /** `iptables -L --line-numbers` position; 0 = the policy (base chain) / fell off a user chain. */
  readonly position: number;
  /** ACCEPT | DROP | RETURN | JUMP:<chain> | GOTO:<chain> | <target extension> (DNAT, REJECT, LOG...) |
   * CONTINUE (rule without target) | POLICY:<ACCEPT|DROP> (position 0, base chain) | RETURN (position 0). */
  readonly verdict: string;
  /** The matched rule as iptables-save prints it (position > 0). */
  readonly rule?: string;
  /** The packet as the kernel saw it at this chain, e.g. "tcp 203.0.113.50:20001 > 172.17.0.2:80". */
  readonly packet: string;
}

export interface OracleProbeResult {
  readonly id: string | number;
  readonly reply: OracleReply;
  readonly delivered: OracleDelivery;
  /** Every rule the probe matched, in traversal order across tables and hooks. */
  readonly trace: readonly OracleTraceEvent[];
  /** The raw socket refused the probe (e.g. "send: Operation not permitted" from an OUTPUT DROP). */
  readonly sendError?: string;
}

export interface OracleBatchStats {
  readonly probes: number;
  readonly loadMs: number;
  readonly indexMs: number;
  readonly sendWaitMs: number;
  readonly traceMs: number;
  readonly totalMs: number;
  readonly traceOverruns: number;
}

export type OracleBatchResult =
  | { readonly ok: true; readonly results: readonly OracleProbeResult[]; readonly stats: OracleBatchStats }
  | { readonly ok: false; readonly error: string; readonly results: readonly [] };

export interface OracleRunOptions {
  readonly topology: OracleTopology;
  readonly backend?: OracleBackend;
  readonly batches: readonly OracleBatch[];
  /** Per request (setup or batch). Default 60 000. */
  readonly timeoutMs?: number;
}

export interface OracleRun {
  readonly backend: OracleBackend;
  readonly setupMs: number;
  readonly totalMs: number;
  readonly batches: readonly OracleBatchResult[];
}

export type OracleAvailability =
  | { readonly ok: true; readonly backends: readonly OracleBackend[]; readonly legacyReason?: string }
  | { readonly ok: false; readonly reason: string };
