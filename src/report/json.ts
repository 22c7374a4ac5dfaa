// Versioned JSON (schemas/output.schema.json). Field names are a public
// contract: add, never rename; bump `version` on a breaking change.

import type { Finding } from '../engine/types.ts';
import type { LintReport } from './types.ts';

export const JSON_FORMAT_VERSION = 1;

export function summarize(report: LintReport) {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;
  return {
    files: report.files.length,
    filesWithFindings: new Set(report.findings.map((f) => f.file)).size,
    filesWithErrors: new Set(report.errors.map((e) => e.span.file)).size,
    problems: report.findings.length,
    errors: counts.error,
    warnings: counts.warning,
    infos: counts.info,
    parseErrors: report.errors.length,
    suppressed: report.suppressed,
    ...(report.baselined !== undefined ? { baselined: report.baselined } : {}),
  };
}

function finding(f: Finding) {
  return {
    ruleId: f.ruleId,
    ruleName: f.ruleName,
    severity: f.severity,
    file: f.file,
    line: f.line,
    column: f.column,
    endColumn: f.endColumn,
    message: f.message,
    ...(f.path ? { path: f.path } : {}),
    ...(f.fix ? { fix: f.fix } : {}),
    fingerprint: f.fingerprint,
  };
}

export function formatJson(report: LintReport): string {
  const findingsPerFile = new Map<string, number>();
  for (const f of report.findings) findingsPerFile.set(f.file, (findingsPerFile.get(f.file) ?? 0) + 1);
  const errorsPerFile = new Map<string, number>();
  for (const e of report.errors) errorsPerFile.set(e.span.file, (errorsPerFile.get(e.span.file) ?? 0) + 1);
  const document = {
    version: JSON_FORMAT_VERSION,
    tool: { name: report.tool.name, version: report.tool.version },
    files: report.files.map((path) => ({ path, findings: findingsPerFile.get(path) ?? 0, errors: errorsPerFile.get(path) ?? 0 })),
    findings: report.findings.map(finding),
    errors: report.errors.map((e) => ({
      file: e.span.file, line: e.span.line, column: e.span.column, endColumn: e.span.endColumn, message: e.message,
      ...(e.found !== undefined ? { found: e.found } : {}),
      ...(e.expected !== undefined ? { expected: e.expected } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
    })),
    summary: summarize(report),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
