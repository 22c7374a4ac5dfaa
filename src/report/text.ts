// Human output: findings grouped by file, each with its place, severity,
// message and rule, the packet path that proves it and the fix; parse errors
// in compiler form; a summary line. Colour only when decided so by the caller.

import pc from 'picocolors';
import type { ParseError } from '../../grammar/ast.ts';
import type { Finding, Severity } from '../engine/types.ts';
import type { TraceStep } from '../sim/types.ts';
import { safeLine, safeText } from './sanitize.ts';
import type { LintReport, ReportOptions } from './types.ts';

type Colors = ReturnType<typeof pc.createColors>;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatStep(step: TraceStep): string {
  const where = step.line > 0 ? `line ${step.line}` : 'policy';
  const matched = step.matched === 'unknown' ? ' (uncertain match)' : '';
  const rewrite = step.rewrite ? ` → ${step.rewrite}` : '';
  return `${step.hook} ${step.table}/${step.chain} ${where}: ${step.rule} ⇒ ${step.action}${rewrite}${matched}`;
}

/** `file:line:column: error: message (found …, expected …)` and an indented hint. */
export function formatParseError(error: ParseError, c: Colors = pc.createColors(false)): string {
  const extra = [error.found ? `found ${error.found}` : undefined, error.expected ? `expected ${error.expected}` : undefined].filter(Boolean).join(', ');
  const head = `${safeLine(error.span.file)}:${error.span.line}:${error.span.column}: ${c.red('error')}: ${safeLine(error.message)}${extra ? ` (${safeLine(extra)})` : ''}`;
  return error.hint ? `${head}\n  ${c.dim('hint:')} ${safeLine(error.hint)}` : head;
}

function severityLabel(severity: Severity, c: Colors): string {
  const padded = severity.padEnd(7);
  return severity === 'error' ? c.red(padded) : severity === 'warning' ? c.yellow(padded) : c.blue(padded);
}

function indentLines(text: string, indent: string): string {
  return safeText(text).split(/\r?\n/).map((line, i) => (i === 0 ? line : `${indent}${line}`)).join('\n');
}

function formatFinding(f: Finding, c: Colors): string {
  const place = `${f.line}:${f.column}`.padEnd(8);
  const lines = [`  ${c.dim(place)}${severityLabel(f.severity, c)}  ${indentLines(f.message, ' '.repeat(19))}  ${c.dim(`${f.ruleId} ${f.ruleName}`)}`];
  if (f.path && f.path.length > 0) {
    lines.push(`          ${c.dim('path:')}`);
    for (const step of f.path) lines.push(`            ${safeLine(formatStep(step))}`);
  }
  if (f.fix) lines.push(`          ${c.green('fix:')} ${indentLines(f.fix, '               ')}`);
  return lines.join('\n');
}

export function summaryLine(report: LintReport, c: Colors): string {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;
  const filesWithFindings = new Set(report.findings.map((f) => f.file)).size;
  const badFiles = new Set(report.errors.map((e) => e.span.file)).size;
  const extras: string[] = [];
  if (report.errors.length > 0) extras.push(`${plural(badFiles, 'file')} could not be checked (${plural(report.errors.length, 'error')})`);
  if (report.baselined) extras.push(`${report.baselined} baselined`);
  if (report.suppressed > 0) extras.push(`${report.suppressed} suppressed`);
  const tail = extras.length > 0 ? ` · ${extras.join(' · ')}` : '';
  const total = report.findings.length;
  if (total === 0 && report.errors.length === 0) return c.green(`✔ ${plural(report.files.length, 'file')} checked, no problems${tail}`);
  const breakdown = [plural(counts.error, 'error'), plural(counts.warning, 'warning'), ...(counts.info > 0 ? [plural(counts.info, 'info')] : [])].join(', ');
  const head = total === 0 ? '✖ no problems' : `✖ ${plural(total, 'problem')} (${breakdown}) in ${filesWithFindings} of ${plural(report.files.length, 'file')}`;
  const colour = counts.error > 0 || report.errors.length > 0 ? c.red : counts.warning > 0 ? c.yellow : c.blue;
  return colour(c.bold(head)) + tail;
}

/** Parse errors are printed separately (stderr); this is the findings report. */
export function formatText(report: LintReport, options: ReportOptions): string {
  const c = pc.createColors(options.color);
  if (options.quiet && report.findings.length === 0 && report.errors.length === 0) return '';
  const out: string[] = [];
  let current: string | undefined;
  for (const f of report.findings) {
    if (f.file !== current) {
      if (current !== undefined) out.push('');
      current = f.file;
      out.push(c.underline(safeLine(f.file)));
    }
    out.push(formatFinding(f, c));
  }
  if (out.length > 0) out.push('');
  out.push(summaryLine(report, c));
  return `${out.join('\n')}\n`;
}
