// Runs rules over hosts: renders messages, assigns severities and fingerprints,
// applies suppressions, reports stale ones, and turns a crashing rule into a
// finding instead of a crashed run. The result is sorted deterministically.

import type { Family, ParseError, Span } from '../../grammar/ast.ts';
import type { Finding, Host, LintRule, LintSettings, Report, Severity } from './types.ts';
import { SEVERITY_ORDER } from './types.ts';
import { compareCodeUnits } from '../model/order.ts';
import {
  ENGINE_RULES, EXPIRED_SUPPRESSION, INTERNAL_ERROR, INVALID_SUPPRESSION, SUPPRESSION_WITHOUT_REASON, UNUSED_SUPPRESSION,
} from './engine-rules.ts';
import { LineIndex, fingerprintBasis, hash16 } from './locate.ts';
import {
  applies, configSuppressions, inlineSuppressions, isExpired, todayUtc,
  type ConfigSuppression, type RuleResolver, type Suppression,
} from './suppressions.ts';
import { buildHosts, type Analysers, defaultAnalysers } from './host.ts';

export interface RuleSetting {
  readonly severity: Severity | 'off';
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Per rule id (names already resolved to ids). Rules absent run with their defaults. */
export type RuleConfig = Readonly<Record<string, RuleSetting>>;

export interface LintOptions {
  /** Suppressions from the config file. */
  readonly suppressions?: readonly ConfigSuppression[];
  /** The config file's display path and text, to place suppression diagnostics. */
  readonly configFile?: string;
  readonly configText?: string;
  /** Honour `# dockfw-lint ignore=` and comment-match pragmas (default true). */
  readonly inlineSuppressions?: boolean;
  /** Errors only: rules below error do not even run. */
  readonly quiet?: boolean;
  /** YYYY-MM-DD, for suppression expiry (default: today, UTC). */
  readonly today?: string;
  /**
   * Report the config suppressions' own diagnostics (unused, expired, unknown rule; default true).
   * A fleet lints slices of hosts apart, so it turns them off per slice and reports them once
   * with configSuppressionFindings over every slice's `configUsed`.
   */
  readonly configDiagnostics?: boolean;
}

export interface LintOutcome {
  readonly findings: readonly Finding[];
  /** Findings hidden by suppressions. */
  readonly suppressed: number;
  /** Per config suppression (in config order): the rule ids it hid. */
  readonly configUsed: readonly (readonly string[])[];
}

export const DEFAULT_SETTINGS: LintSettings = { externalInterfaces: [], localAddresses: [], intendedPublicPorts: [] };

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}|\{(\w+)\}/g;

/** Fills `{name}` (or `{{name}}`) from data; unknown placeholders stay as written. */
export function renderMessage(template: string, data: Readonly<Record<string, string | number>> | undefined): string {
  return template.replace(PLACEHOLDER, (whole, a: string | undefined, b: string | undefined) => {
    const key = (a ?? b)!;
    const value = data?.[key];
    return value === undefined ? whole : String(value);
  });
}

export function compareFindings(a: Finding, b: Finding): number {
  return compareCodeUnits(a.file, b.file) || a.line - b.line || a.column - b.column || compareCodeUnits(a.ruleId, b.ruleId) || compareCodeUnits(a.message, b.message);
}

/** Resolves ids (any case) and names to ids over the given rules. */
export function ruleResolver(rules: readonly LintRule[]): RuleResolver {
  const map = new Map<string, string>();
  for (const rule of rules) {
    map.set(rule.meta.id.toUpperCase(), rule.meta.id);
    map.set(rule.meta.name.toLowerCase(), rule.meta.id);
  }
  return (idOrName) => map.get(idOrName.toUpperCase()) ?? map.get(idOrName.toLowerCase());
}

interface Draft {
  readonly rule: LintRule;
  readonly severity: Severity;
  readonly at: Span;
  readonly message: string;
  readonly messageId?: string;
  readonly path?: Finding['path'];
  readonly fix?: string;
  readonly identity?: string;
}

function withoutEngineDuplicates(rules: readonly LintRule[]): LintRule[] {
  const engineIds = new Set(ENGINE_RULES.map((r) => r.meta.id));
  return rules.filter((r) => !engineIds.has(r.meta.id));
}

function severityOf(rule: LintRule, ruleConfig: RuleConfig): Severity | 'off' {
  return ruleConfig[rule.meta.id]?.severity ?? rule.meta.severity;
}

/** Rules that run under this config: on, and at error when `quiet`. */
export function activeRules(rules: readonly LintRule[], ruleConfig: RuleConfig, quiet = false): LintRule[] {
  return rules.filter((rule) => {
    const severity = severityOf(rule, ruleConfig);
    return severity !== 'off' && (!quiet || severity === 'error');
  });
}

function runRule(rule: LintRule, host: Host, settings: LintSettings, ruleConfig: RuleConfig, severity: Severity): Draft[] {
  const drafts: Draft[] = [];
  const options = { ...(rule.meta.defaultOptions ?? {}), ...(ruleConfig[rule.meta.id]?.options ?? {}) };
  try {
    rule.check({
      host,
      settings,
      options,
      report(report: Report<string>) {
        const template = (rule.meta.messages as Readonly<Record<string, string>>)[report.messageId];
        if (template === undefined) throw new Error(`unknown messageId "${report.messageId}"`);
        drafts.push({ rule, severity, at: report.at, message: renderMessage(template, report.data), messageId: report.messageId, path: report.path, fix: report.fix, identity: report.identity });
      },
    });
  } catch (error) {
    const first = host.views[0]?.ruleset;
    const at: Span = { file: first?.file ?? host.files[0] ?? '<unknown>', line: first?.startLine ?? 1, column: 1, endColumn: 1 };
    const text = error instanceof Error ? error.message : String(error);
    drafts.push({
      rule: INTERNAL_ERROR,
      severity: 'error',
      at,
      message: renderMessage(INTERNAL_ERROR.meta.messages.default, { rule: rule.meta.id, ruleName: rule.meta.name, error: text.split('\n')[0] ?? '' }),
    });
  }
  return drafts;
}

/** The line where the n-th config suppression is written, found by its `"rule"` key (line 1 if not found). */
function configLocator(file: string, text: string | undefined): (entry: number) => Span {
  const lines = text?.split('\n') ?? [];
  const start = lines.findIndex((l) => /"suppressions"\s*:/.test(l));
  const ruleLines: number[] = [];
  if (start !== -1) lines.forEach((l, i) => { if (i >= start && /"rule"\s*:/.test(l)) ruleLines.push(i); });
  return (entry) => {
    const index = ruleLines[entry];
    if (index === undefined) return { file, line: 1, column: 1, endColumn: 1 };
    const column = lines[index]!.search(/"rule"/) + 1;
    return { file, line: index + 1, column, endColumn: column + 6 };
  };
}

function engineDraft(rule: LintRule, ruleConfig: RuleConfig, quiet: boolean, at: Span, data: Record<string, string | number>): Draft | undefined {
  const severity = severityOf(rule, ruleConfig);
  if (severity === 'off' || (quiet && severity !== 'error')) return undefined;
  return { rule, severity, at, message: renderMessage(rule.meta.messages['default' as never] as string, data) };
}

/** Lints hosts; returns findings and how many suppressions hid. */
export function lintHostsDetailed(
  hosts: readonly Host[],
  rules: readonly LintRule[],
  settings: LintSettings = DEFAULT_SETTINGS,
  ruleConfig: RuleConfig = {},
  options: LintOptions = {},
): LintOutcome {
  const quiet = options.quiet ?? false;
  const today = options.today ?? todayUtc();
  const lintRules = withoutEngineDuplicates(rules);
  const running = activeRules(lintRules, ruleConfig, quiet);
  const runningIds = new Set(running.map((r) => r.meta.id));
  const resolve = ruleResolver([...ENGINE_RULES, ...lintRules]);
  const fromConfig = configSuppressionsOf(options, resolve);
  const live = fromConfig.filter((s) => !isExpired(s, today));

  const kept: { draft: Draft; index: LineIndex }[] = [];
  // The engine's own findings; inline ones keep their host's index so their fingerprint is the pragma's text.
  const meta: { draft: Draft; index: LineIndex | undefined }[] = [];
  let suppressed = 0;
  let hostIndex: LineIndex | undefined;
  const push = (d: Draft | undefined) => { if (d) meta.push({ draft: d, index: hostIndex }); };

  for (const host of hosts) {
    const index = new LineIndex(host.views.map((v) => v.ruleset));
    hostIndex = index;
    const inline = options.inlineSuppressions === false ? { suppressions: [], problems: [] } : inlineSuppressions(host, index, resolve);
    const drafts = running.flatMap((rule) => runRule(rule, host, settings, ruleConfig, severityOf(rule, ruleConfig) as Severity));
    const all: readonly Suppression[] = [...inline.suppressions, ...live];
    for (const draft of drafts) {
      const finding = { ruleId: draft.rule.meta.id, file: draft.at.file, line: draft.at.line };
      let hidden = false;
      if (draft.rule !== INTERNAL_ERROR) for (const s of all) if (applies(s, finding, index)) hidden = true;
      if (hidden) suppressed++;
      else kept.push({ draft, index });
    }
    for (const s of inline.suppressions) {
      const rules = s.written.join(',');
      if (!s.reason) push(engineDraft(SUPPRESSION_WITHOUT_REASON, ruleConfig, quiet, s.at, { rules }));
      const unused = s.ruleIds.filter((id) => runningIds.has(id) && !s.used.has(id));
      if (unused.length > 0) push(engineDraft(UNUSED_SUPPRESSION, ruleConfig, quiet, s.at, { rules: unused.join(','), where: s.where }));
    }
    for (const p of inline.problems) push(engineDraft(INVALID_SUPPRESSION, ruleConfig, quiet, p.at, { problem: p.problem }));
  }
  hostIndex = undefined;
  const findings = finalize([...kept.map(({ draft, index }) => ({ draft, index: index as LineIndex | undefined })), ...meta]);
  const configUsed = fromConfig.map((s) => [...s.used].sort());
  if (options.configDiagnostics === false) return { findings, suppressed, configUsed };
  const configFindings = configSuppressionFindings(rules, ruleConfig, options, configUsed, hosts.length > 0);
  return { findings: [...findings, ...configFindings].sort(compareFindings), suppressed, configUsed };
}

function configSuppressionsOf(options: LintOptions, resolve: RuleResolver): Suppression[] {
  const configFile = options.configFile ?? '.dockfw-lint.json';
  return configSuppressions(options.suppressions ?? [], resolve, configFile, configLocator(configFile, options.configText));
}

/**
 * The config suppressions' own diagnostics: expired, naming an unknown rule, or unused —
 * `used` says, per suppression, which rule ids it hid over all hosts linted (`linted`: any at all).
 */
export function configSuppressionFindings(
  rules: readonly LintRule[], ruleConfig: RuleConfig, options: LintOptions, used: readonly (readonly string[])[], linted: boolean,
): Finding[] {
  const quiet = options.quiet ?? false;
  const today = options.today ?? todayUtc();
  const lintRules = withoutEngineDuplicates(rules);
  const runningIds = new Set(activeRules(lintRules, ruleConfig, quiet).map((r) => r.meta.id));
  const resolve = ruleResolver([...ENGINE_RULES, ...lintRules]);
  const meta: { draft: Draft; index: LineIndex | undefined }[] = [];
  const push = (d: Draft | undefined) => { if (d) meta.push({ draft: d, index: undefined }); };
  configSuppressionsOf(options, resolve).forEach((s, i) => {
    const rules = s.written.join(',');
    if (isExpired(s, today)) {
      push(engineDraft(EXPIRED_SUPPRESSION, ruleConfig, quiet, s.at, { rules, expires: s.expires ?? '', reason: s.reason ?? '' }));
      return;
    }
    if (!resolve(s.written[0] ?? '')) {
      push(engineDraft(INVALID_SUPPRESSION, ruleConfig, quiet, s.at, { problem: `suppression names unknown rule "${rules}"` }));
      return;
    }
    const hid = new Set(used[i] ?? []);
    const unused = s.ruleIds.filter((id) => runningIds.has(id) && !hid.has(id));
    if (unused.length > 0 && linted) push(engineDraft(UNUSED_SUPPRESSION, ruleConfig, quiet, s.at, { rules: unused.join(','), where: s.where }));
  });
  return finalize(meta);
}

/** Drafts → findings: duplicates dropped, fingerprints assigned (per file, rule and subject, in order), sorted. */
function finalize(drafts: readonly { draft: Draft; index: LineIndex | undefined }[]): Finding[] {
  const findings = new Map<string, Finding>();
  const occurrences = new Map<string, number>();
  const ordered = [...drafts].sort((a, b) => compareDrafts(a.draft, b.draft));
  for (const { draft, index } of ordered) {
    const key = `${draft.rule.meta.id}\u0000${draft.at.file}\u0000${draft.at.line}\u0000${draft.at.column}\u0000${draft.at.endColumn}\u0000${draft.message}`;
    if (findings.has(key)) continue;
    const place = fingerprintBasis(index?.at(draft.at.file, draft.at.line), draft.message);
    const basis = draft.identity === undefined ? place : `${place}\u0002${draft.identity}`;
    const occurrenceKey = `${draft.at.file}\u0000${draft.rule.meta.id}\u0000${basis}`;
    const n = (occurrences.get(occurrenceKey) ?? 0) + 1;
    occurrences.set(occurrenceKey, n);
    const finding: Finding = {
      ruleId: draft.rule.meta.id,
      ruleName: draft.rule.meta.name,
      severity: draft.severity,
      file: draft.at.file,
      line: draft.at.line,
      column: draft.at.column,
      endColumn: draft.at.endColumn,
      message: draft.message,
      ...(draft.messageId ? { messageId: draft.messageId } : {}),
      ...(draft.path && draft.path.length > 0 ? { path: draft.path } : {}),
      ...(draft.fix ? { fix: draft.fix } : {}),
      fingerprint: hash16(n === 1 ? basis : `${basis}\u0000${n}`),
    };
    findings.set(key, finding);
  }
  return [...findings.values()].sort(compareFindings);
}

function compareDrafts(a: Draft, b: Draft): number {
  return compareCodeUnits(a.at.file, b.at.file) || a.at.line - b.at.line || a.at.column - b.at.column
    || compareCodeUnits(a.rule.meta.id, b.rule.meta.id) || compareCodeUnits(a.message, b.message);
}

/** Runs rules over hosts (see lintHostsDetailed). */
export function lintHosts(
  hosts: readonly Host[], rules: readonly LintRule[], settings: LintSettings = DEFAULT_SETTINGS, ruleConfig: RuleConfig = {}, options: LintOptions = {},
): Finding[] {
  return [...lintHostsDetailed(hosts, rules, settings, ruleConfig, options).findings];
}

export interface LintTextOptions {
  readonly rules: readonly LintRule[];
  readonly settings?: Partial<LintSettings>;
  /** Default `input.txt`. */
  readonly file?: string;
  readonly family?: Family;
  readonly ruleConfig?: RuleConfig;
  readonly lint?: LintOptions;
  /** For engine tests: fake Docker model and simulator. */
  readonly analysers?: Analysers;
}

export interface LintTextResult {
  readonly findings: Finding[];
  readonly errors: readonly ParseError[];
}

/** Lints one text (which may hold an iptables-save and an ip6tables-save): the RuleTester's entry point. */
export function lintText(text: string, options: LintTextOptions): LintTextResult {
  const settings: LintSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  const built = buildHosts([{ file: options.file ?? 'input.txt', text }], settings, options.family, options.analysers ?? defaultAnalysers);
  const findings = lintHosts(built.hosts, options.rules, settings, options.ruleConfig ?? {}, options.lint ?? {});
  return { findings, errors: built.errors };
}

/** Severity helpers for thresholds and summaries. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[threshold];
}
