// The contract between the lint engine and rule modules (one folder per rule
// under rules/). A rule is self-describing data (`meta`) plus a pure `check`.

import type { Ruleset, Span } from '../../grammar/ast.ts';
import type { DockerModel } from '../model/docker-types.ts';
import type { HostModel } from '../model/host.ts';
import type { Packet, RulesetExposure, Trace, TraceStep } from '../sim/types.ts';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { info: 1, warning: 2, error: 3 };

/** A JSON Schema object (kept loose: ajv validates it). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface RuleMeta<MessageId extends string> {
  /** Stable public code: DFW101, IPT204 … */
  readonly id: string;
  /** Stable kebab-case name: input-rule-misses-published-port. */
  readonly name: string;
  readonly severity: Severity;
  /** One line, for tables and SARIF shortDescription. */
  readonly summary: string;
  /** A paragraph for SARIF fullDescription and `--explain`. */
  readonly description: string;
  readonly tags: readonly string[];
  /** Message templates; `{name}` placeholders are filled from the report's data. */
  readonly messages: Readonly<Record<MessageId, string>>;
  readonly options?: JsonSchema;
  readonly defaultOptions?: Readonly<Record<string, unknown>>;
}

/** One family's view of a host: its ruleset, the Docker model and the simulator over it. */
export interface RulesetView {
  readonly ruleset: Ruleset;
  readonly docker: DockerModel;
  readonly simulator: Simulator;
}

export interface Simulator {
  readonly host: HostModel;
  trace(packet: Packet): Trace;
  exposure(): RulesetExposure;
}

/** A host: an iptables-save and (optionally) an ip6tables-save of the same machine. */
export interface Host {
  readonly name: string;
  readonly files: readonly string[];
  readonly ipv4?: RulesetView;
  /** Present when an IPv6 dump was given (possibly empty: no IPv6 filtering at all). */
  readonly ipv6?: RulesetView;
  /** Both, IPv4 first. */
  readonly views: readonly RulesetView[];
}

export interface LintSettings {
  readonly externalInterfaces: readonly string[];
  readonly localAddresses: readonly string[];
  /** Published ports that are meant to be public, e.g. "tcp/443" or "443". */
  readonly intendedPublicPorts: readonly string[];
}

export interface Report<MessageId extends string> {
  readonly at: Span;
  readonly messageId: MessageId;
  readonly data?: Readonly<Record<string, string | number>>;
  /** The packet's walk that proves the finding. */
  readonly path?: readonly TraceStep[];
  /** The iptables command(s) that fix it. */
  readonly fix?: string;
  /**
   * What tells this finding from the rule's other findings at the same place
   * (a port, a bridge), for its fingerprint: without it, findings at one place
   * are numbered in order, and fixing the first renames the second. Must be
   * stable across captures: never a line number or a counter.
   */
  readonly identity?: string;
}

export interface RuleContext<MessageId extends string> {
  readonly host: Host;
  readonly settings: LintSettings;
  readonly options: Readonly<Record<string, unknown>>;
  report(report: Report<MessageId>): void;
}

export interface LintRule<MessageId extends string = string> {
  readonly meta: RuleMeta<MessageId>;
  check(context: RuleContext<MessageId>): void;
}

/** Identity helper that keeps the message ids typed: a typo in a messageId does not compile. */
export function defineRule<MessageId extends string>(rule: LintRule<MessageId>): LintRule<MessageId> {
  return rule;
}

export interface Finding {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  readonly message: string;
  /** The message template it was rendered from (for rule tests). */
  readonly messageId?: string;
  readonly path?: readonly TraceStep[];
  readonly fix?: string;
  /** Stable across captures: table + chain + normalised rule text. */
  readonly fingerprint: string;
}

export const DOCS_BASE = 'https://github.com/dockfw-lint/dockfw-lint/blob/main/rules';

/** The one place a rule's documentation URL is derived from its id and name. */
export function docsUrl(meta: { readonly id: string; readonly name: string }): string {
  return `${DOCS_BASE}/${meta.id}-${meta.name}/README.md`;
}
