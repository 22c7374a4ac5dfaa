// Applying a baseline to a run's findings, reporting its stale entries, and
// turning findings into entries.

import type { RuleConfig } from '../engine/engine.ts';
import { renderMessage } from '../engine/engine.ts';
import { INTERNAL_ERROR, STALE_BASELINE_ENTRY } from '../engine/engine-rules.ts';
import { hash16 } from '../engine/locate.ts';
import type { Finding, Severity } from '../engine/types.ts';
import { type Baseline, type BaselineEntry, baselineKey, entryLocator } from './format.ts';
import type { SourceLines } from './source-lines.ts';

/** What this run can say about an entry. */
export interface BaselineScope {
  /** Files this run linted completely (read and parsed): their entries must match a finding. */
  readonly checked: ReadonlySet<string>;
  /** Rule ids that ran: an entry of a rule that did not run (off, or below error under --quiet) cannot go stale. */
  readonly ran: ReadonlySet<string>;
  /** Rule ids that exist at all: an entry of a rule that no longer exists is stale. */
  readonly known: ReadonlySet<string>;
  /** Whether a file this run did not lint still exists: entries of deleted hosts are stale. */
  exists(file: string): boolean;
}

/** Findings a baseline can accept: not a crash (exit 2 stays exit 2), not the baseline's own diagnostic. */
export function isBaselinable(finding: Pick<Finding, 'ruleId'>): boolean {
  return finding.ruleId !== INTERNAL_ERROR.meta.id && finding.ruleId !== STALE_BASELINE_ENTRY.meta.id;
}

function isStale(entry: BaselineEntry, scope: BaselineScope): boolean {
  if (scope.checked.has(entry.file)) return scope.ran.has(entry.ruleId) || !scope.known.has(entry.ruleId);
  return !scope.exists(entry.file);
}

export interface StaleEntry {
  readonly entry: BaselineEntry;
  /** Position in the baseline's entries, to place the diagnostic. */
  readonly index: number;
}

export interface AppliedBaseline {
  /** The findings the baseline does not accept. */
  readonly findings: readonly Finding[];
  /** How many it accepted. */
  readonly baselined: number;
  readonly stale: readonly StaleEntry[];
}

export function applyBaseline(findings: readonly Finding[], baseline: Baseline, scope: BaselineScope): AppliedBaseline {
  const accepted = new Set(baseline.entries.map(baselineKey));
  const matched = new Set<string>();
  const kept: Finding[] = [];
  for (const finding of findings) {
    const key = baselineKey({ file: finding.file, ruleId: finding.ruleId, fingerprint: finding.fingerprint });
    if (isBaselinable(finding) && accepted.has(key)) matched.add(key);
    else kept.push(finding);
  }
  const stale: StaleEntry[] = [];
  const seen = new Set<string>();
  baseline.entries.forEach((entry, index) => {
    const key = baselineKey(entry);
    if (seen.has(key)) return;
    seen.add(key);
    if (!matched.has(key) && isStale(entry, scope)) stale.push({ entry, index });
  });
  return { findings: kept, baselined: findings.length - kept.length, stale };
}

/** DFW005 findings for stale entries, placed at each entry's `"fingerprint"` in the baseline file. */
export function staleEntryFindings(
  stale: readonly StaleEntry[], baselineFile: string, baselineText: string, ruleConfig: RuleConfig, quiet: boolean,
): Finding[] {
  const { meta } = STALE_BASELINE_ENTRY;
  const severity = ruleConfig[meta.id]?.severity ?? meta.severity;
  if (severity === 'off' || (quiet && severity !== 'error')) return [];
  const locate = entryLocator(baselineText);
  return stale.map(({ entry, index }) => {
    const at = locate(index);
    return {
      ruleId: meta.id,
      ruleName: meta.name,
      severity: severity as Severity,
      file: baselineFile,
      line: at.line,
      column: at.column,
      endColumn: at.column + '"fingerprint"'.length,
      message: renderMessage(meta.messages.default, { rule: entry.ruleId, file: entry.file, subject: entry.text ?? entry.message ?? entry.fingerprint }),
      fingerprint: hash16(`baseline\u0000${baselineKey(entry)}`),
    };
  });
}

/**
 * The entries `--write-baseline` writes: one per baselinable finding, plus the
 * previous entries of files this run did not lint that still exist (a run over
 * a few changed files must not drop the rest). Reasons are carried over by key.
 */
export function baselineEntries(
  findings: readonly Finding[], sources: SourceLines, previous: readonly BaselineEntry[], scope: Pick<BaselineScope, 'checked' | 'exists'>,
): BaselineEntry[] {
  const reasons = new Map<string, string>();
  for (const entry of previous) if (entry.reason !== undefined && !reasons.has(baselineKey(entry))) reasons.set(baselineKey(entry), entry.reason);
  const entries: BaselineEntry[] = [];
  for (const f of findings) {
    if (!isBaselinable(f)) continue;
    const key = baselineKey({ file: f.file, ruleId: f.ruleId, fingerprint: f.fingerprint });
    const text = sources.subject(f.file, f.line);
    const reason = reasons.get(key);
    entries.push({
      file: f.file, ruleId: f.ruleId, fingerprint: f.fingerprint,
      ...(text !== undefined ? { text } : {}),
      message: f.message,
      ...(reason !== undefined ? { reason } : {}),
    });
  }
  const linted = new Set(entries.map((e) => e.file));
  for (const entry of previous) {
    if (scope.checked.has(entry.file) || linted.has(entry.file) || !scope.exists(entry.file)) continue;
    entries.push(entry);
  }
  return entries;
}
