// GitHub Actions workflow commands: `::error file=…,line=…::message`. Values are
// escaped as actions/toolkit does, so a message holding newlines or `::error`
// stays inside its own annotation and cannot forge another.

import type { Severity } from '../engine/types.ts';
import { safeText } from './sanitize.ts';
import type { LintReport } from './types.ts';

const COMMAND: Readonly<Record<Severity, string>> = { error: 'error', warning: 'warning', info: 'notice' };
/** GitHub shows at most 10 error and 10 warning annotations per step. */
const SHOWN_PER_KIND = 10;

export function escapeData(text: string): string {
  // Other control characters (ESC …) are shown visibly rather than passed to the log renderer.
  return safeText(text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A'));
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(kind: string, properties: Readonly<Record<string, string | number | undefined>>, message: string): string {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${kind} ${props}::${escapeData(message)}`;
}

export function formatGithub(report: LintReport): string {
  const lines: string[] = [];
  for (const e of report.errors) {
    const extra = [e.found ? `found ${e.found}` : undefined, e.expected ? `expected ${e.expected}` : undefined].filter(Boolean).join(', ');
    lines.push(command('error', {
      file: e.span.file, line: e.span.line, col: e.span.column, endColumn: e.span.endColumn > e.span.column ? e.span.endColumn : undefined,
      title: 'dockfw-lint (DFW000 parse-error)',
    }, `${e.message}${extra ? ` (${extra})` : ''}${e.hint ? `\nhint: ${e.hint}` : ''}`));
  }
  for (const f of report.findings) {
    lines.push(command(COMMAND[f.severity], {
      file: f.file, line: f.line, endLine: f.line, col: f.column, endColumn: f.endColumn > f.column ? f.endColumn : undefined,
      title: `dockfw-lint (${f.ruleId} ${f.ruleName})`,
    }, f.fix ? `${f.message}\nfix: ${f.fix}` : f.message));
  }
  const errors = report.errors.length + report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  if (errors > SHOWN_PER_KIND || warnings > SHOWN_PER_KIND) {
    lines.push(`::notice title=dockfw-lint::${escapeData(`${errors} errors and ${warnings} warnings; GitHub shows only ${SHOWN_PER_KIND} of each per step: see the job log or upload --format sarif for all`)}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
