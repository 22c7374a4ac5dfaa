// The simulator's public types: packets, traces and exposure results.

import type { Family, Rule, TableName } from '../../grammar/ast.ts';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export type L4Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | 'other';

/** A concrete packet. Addresses are text in canonical form. */
export interface Packet {
  readonly family: Family;
  readonly proto: L4Protocol;
  /** IANA number when proto is 'other'. */
  readonly protoNumber?: number;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** TCP flags as names (SYN, ACK, …); default a bare SYN for NEW tcp. */
  readonly tcpFlags?: readonly string[];
  /** Interface it arrives on; undefined for a packet the host sends (then `fromHost`). */
  readonly inInterface?: string;
  readonly fromHost?: boolean;
  readonly state?: CtState;
  readonly mark?: number;
  readonly connmark?: number;
  readonly fragment?: boolean;
  /** For ESTABLISHED/RELATED packets: the connection's original direction tuple, when known. */
  readonly original?: { readonly src: string; readonly dst: string; readonly sport?: number; readonly dport?: number; readonly direction: 'ORIGINAL' | 'REPLY' };
}

export type StepAction =
  | 'continue' | 'jump' | 'goto' | 'return' | 'accept' | 'drop' | 'reject' | 'policy-accept' | 'policy-drop'
  | 'dnat' | 'snat' | 'masquerade' | 'redirect' | 'mark' | 'log' | 'notrack' | 'queue' | 'fall-off';

export interface TraceStep {
  readonly hook: Hook;
  readonly table: TableName;
  readonly chain: string;
  /** 1-based position in the chain (0 for the policy / falling off). */
  readonly position: number;
  /** Source line, 0 when the step is a policy without a declaration line. */
  readonly line: number;
  readonly file: string;
  /** The rule's text as `-A CHAIN …`, or `policy ACCEPT`. */
  readonly rule: string;
  readonly matched: boolean | 'unknown';
  readonly action: StepAction;
  /** The packet after a rewrite (DNAT/SNAT …), as text. */
  readonly rewrite?: string;
}

export type Verdict = 'accept' | 'drop' | 'reject' | 'unknown';

export interface Reach {
  readonly kind: 'container' | 'host' | 'forward' | 'none';
  readonly address?: string;
  readonly port?: number;
  readonly interface?: string;
}

export interface Trace {
  readonly verdict: Verdict;
  readonly reaches: Reach;
  readonly steps: readonly TraceStep[];
  readonly uncertain: readonly { readonly line: number; readonly reason: string }[];
  /** The packet as it leaves netfilter (after NAT). */
  readonly final: Packet;
  /** The rule that decided the verdict, if a rule (not a policy) did. */
  readonly decidedBy?: Rule;
  /** Human reason: "dropped by DOCKER-USER line 14". */
  readonly reason: string;
}

export interface ReachableFrom {
  readonly interface: string;
  readonly sources: readonly string[];
}

/** A rule whose outcome the dump does not decide (an ipset, `recent`, `limit` …). */
export interface ExposureCondition {
  readonly line: number;
  readonly reason: string;
}

/** Sources whose new connections get through on some outcomes of undecidable matches and not on others. */
export interface ConditionalReach extends ReachableFrom {
  /** The rules the answer depends on. */
  readonly conditions: readonly ExposureCondition[];
  /**
   * Whether they get through when none of those rules' undecidable matches match: true for a
   * blocklist or a brute-force guard in front of an open port, false for an allow-list.
   */
  readonly whenNoneMatch: boolean;
}

export interface ExposureEntry {
  readonly proto: string;
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly container?: { readonly address: string; readonly port: number };
  readonly bridge?: string;
  /** Sources whose new connections get through whatever the undecidable matches do. */
  readonly reachableFrom: readonly ReachableFrom[];
  /**
   * Sources whose new connections get through only on some outcomes of matches the dump
   * cannot decide (`-m set`, `recent`, `limit` …): reachable for some, maybe all, of them.
   */
  readonly conditionallyReachableFrom: readonly ConditionalReach[];
  /** A one-line summary of what stops everyone else, when something does. */
  readonly blockedBy?: string;
  /** Set when the answer is approximate: the reason (e.g. too many source classes to tell apart). */
  readonly partial?: string;
  /** The port stands for every port no rule names (it is one of them, picked to ask with). */
  readonly otherPorts?: true;
}

export interface RulesetExposure {
  readonly family: Family;
  readonly published: readonly ExposureEntry[];
  readonly direct: readonly ExposureEntry[];
  readonly host: readonly ExposureEntry[];
}
