// What `dockfw-lint diff` reports: changes in what is reachable between two
// snapshots of the same hosts, never changes in text.

import type { Family } from '../../grammar/ast.ts';
import type { ExposureCondition, Packet, TraceStep, Verdict } from '../sim/types.ts';

/** The three kinds of thing exposure knows about (see `dockfw-lint exposure`). */
export type TargetCategory = 'published' | 'direct' | 'host';

/** What an outside client can open a connection to, keyed so that both snapshots name it the same way. */
export interface Target {
  readonly category: TargetCategory;
  /** Stable identity within a family: `published tcp 0.0.0.0:8080`, `direct docker0 tcp/80`, `host tcp/other`. */
  readonly key: string;
  readonly proto: string;
  /** published: the host address (0.0.0.0 / :: for all); direct: the container address; host: the host address asked about. */
  readonly address: string;
  /** The port asked about; for "any other port" the representative port walked. */
  readonly port: number;
  /** True when `port` stands for every port no rule mentions. */
  readonly anyOtherPort: boolean;
  readonly container?: { readonly address: string; readonly port: number };
  readonly bridge?: string;
}

/**
 * How one change moves reachability. A source counts as reachable when a connection from it
 * gets through, or may (its fate hangs on a match the dump cannot decide: an ipset, `recent` …).
 * The last two kinds are sources reachable in both snapshots whose access lost or gained such a
 * condition: `now-unconditional` (an allowlist ipset removed, say) widens.
 */
export type ChangeKind =
  | 'newly-reachable' | 'widened' | 'narrowed' | 'no-longer-reachable'
  | 'now-unconditional' | 'now-conditional';

/** Widening kinds make `diff` exit 1. */
export const WIDENING: ReadonlySet<ChangeKind> = new Set(['newly-reachable', 'widened', 'now-unconditional']);

/** A rule an uncertain answer depends on (as exposure names them). */
export type Condition = ExposureCondition;

/** Which rule decided a packet's fate: a rule by its text, or a chain policy. */
export interface Decider {
  readonly table: string;
  readonly chain: string;
  /** `-A CHAIN …` or `policy DROP`. */
  readonly rule: string;
  readonly line: number;
  readonly file: string;
}

/** One witness packet walked through one snapshot. */
export interface WitnessWalk {
  readonly verdict: Verdict;
  /** "delivered to container 172.18.0.2:80", "dropped by …". */
  readonly reason: string;
  readonly decidedBy?: Decider;
  readonly steps: readonly TraceStep[];
}

export interface Change {
  readonly kind: ChangeKind;
  readonly family: Family;
  readonly target: Target;
  /** `*` stands for any interface the rulesets do not name. */
  readonly interface: string;
  /** Sources that gained (widening kinds) or lost (narrowing kinds) access, as minimal CIDRs. */
  readonly sources: readonly string[];
  readonly before: readonly string[];
  readonly after: readonly string[];
  /**
   * The undecidable rules access depended on: for `now-unconditional`, in the old snapshot;
   * for `now-conditional`, in the new one.
   */
  readonly conditions?: readonly Condition[];
  /** A packet from `sources`, walked through both snapshots: the proof. */
  readonly witness: Packet;
  readonly old?: WitnessWalk;
  readonly new?: WitnessWalk;
}

/** A rule (or policy) that decides a witness differently in the two snapshots. */
export interface RuleEffect {
  readonly table: string;
  readonly chain: string;
  readonly rule: string;
  /** Where it is in each snapshot (absent: not there). */
  readonly oldLine?: number;
  readonly newLine?: number;
  readonly presence: 'added' | 'removed' | 'both';
  /** What it decided in the old snapshot and no longer decides, and the other way round. */
  readonly stoppedDeciding: readonly string[];
  readonly startedDeciding: readonly string[];
}

export interface HostDiff {
  /** A display name for the host (new side's files, else the old side's). */
  readonly name: string;
  readonly oldFiles: readonly string[];
  readonly newFiles: readonly string[];
  readonly changes: readonly Change[];
  readonly ruleEffects: readonly RuleEffect[];
  /** Things the reader should know: a family present in only one snapshot, a partial analysis. */
  readonly notes: readonly string[];
}

export interface DiffResult {
  readonly hosts: readonly HostDiff[];
  /** True when any change widens reachability (exit 1). */
  readonly widened: boolean;
  readonly summary: {
    readonly hostsCompared: number;
    readonly widening: number;
    readonly narrowing: number;
  };
}
