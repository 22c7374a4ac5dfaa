// SARIF 2.1.0 for GitHub code scanning (validated against the official schema
// in tests: one invalid result makes GitHub reject the whole upload).

import type { ParseError } from '../../grammar/ast.ts';
import { PARSE_ERROR } from '../engine/engine-rules.ts';
import { docsUrl, type Finding, type LintRule, type Severity } from '../engine/types.ts';
import type { TraceStep } from '../sim/types.ts';
import { formatStep } from './text.ts';
import type { LintReport } from './types.ts';

const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = { error: 'error', warning: 'warning', info: 'note' };
/** GitHub's security-severity score (0.1–10: ≥9 critical, ≥7 high, ≥4 medium, else low). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { error: '8.0', warning: '5.5', info: '2.0' };

/** A relative POSIX path as a URI reference (spaces, `%`, `#`, `?`, `<` … percent-encoded). */
export function pathToUri(path: string): string {
  return path.split('/').map((segment) => encodeURIComponent(segment)).join('/');
}

function descriptor(rule: LintRule) {
  const { meta } = rule;
  const url = docsUrl(meta);
  const security = meta.tags.includes('security');
  return {
    id: meta.id,
    name: meta.name,
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.description || meta.summary },
    help: {
      text: `${meta.description || meta.summary}\n\nDocumentation: ${url}`,
      markdown: `${meta.description || meta.summary}\n\n[${meta.id} ${meta.name}](${url})`,
    },
    helpUri: url,
    defaultConfiguration: { level: LEVEL[meta.severity] },
    properties: {
      tags: [...meta.tags],
      precision: 'high',
      ...(security ? { 'security-severity': SECURITY_SEVERITY[meta.severity] } : {}),
    },
  };
}

function region(line: number, column: number, endColumn: number) {
  const startLine = Math.max(1, line);
  const startColumn = Math.max(1, column);
  return { startLine, startColumn, endLine: startLine, ...(endColumn > startColumn ? { endColumn } : {}) };
}

function location(file: string, line: number, column: number, endColumn: number, message?: string) {
  return {
    physicalLocation: { artifactLocation: { uri: pathToUri(file), uriBaseId: '%SRCROOT%' }, region: region(line, column, endColumn) },
    ...(message ? { message: { text: message } } : {}),
  };
}

function codeFlow(path: readonly TraceStep[]) {
  const steps = path.filter((s) => s.line > 0 && s.file);
  if (steps.length === 0) return undefined;
  return [{
    threadFlows: [{
      locations: steps.map((s) => ({ location: location(s.file, s.line, 1, 0, formatStep(s)) })),
    }],
  }];
}

function result(f: Finding, ruleIndex: number) {
  const flows = f.path ? codeFlow(f.path) : undefined;
  return {
    ruleId: f.ruleId,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[f.severity],
    message: { text: f.fix ? `${f.message}\n\nFix: ${f.fix}` : f.message },
    locations: [location(f.file, f.line, f.column, f.endColumn)],
    partialFingerprints: { 'dockfwLint/v1': f.fingerprint },
    ...(flows ? { codeFlows: flows } : {}),
    ...(f.fix ? { properties: { fix: f.fix } } : {}),
  };
}

function parseErrorResult(e: ParseError, ruleIndex: number) {
  const extra = [e.found ? `found ${e.found}` : undefined, e.expected ? `expected ${e.expected}` : undefined].filter(Boolean).join(', ');
  return {
    ruleId: PARSE_ERROR.meta.id,
    ruleIndex,
    level: 'error' as const,
    message: { text: `${e.message}${extra ? ` (${extra})` : ''}${e.hint ? `. Hint: ${e.hint}` : ''}` },
    locations: [location(e.span.file, e.span.line, e.span.column, e.span.endColumn)],
  };
}

export function formatSarif(report: LintReport): string {
  const rules = [...report.rules];
  const ids = new Set(rules.map((r) => r.meta.id));
  if (report.errors.length > 0 && !ids.has(PARSE_ERROR.meta.id)) rules.push(PARSE_ERROR);
  rules.sort((a, b) => (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0));
  const index = new Map(rules.map((r, i) => [r.meta.id, i]));
  const results = [
    ...report.errors.map((e) => parseErrorResult(e, index.get(PARSE_ERROR.meta.id)!)),
    ...report.findings.map((f) => result(f, index.get(f.ruleId) ?? -1)),
  ];
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: report.tool.name,
          version: report.tool.version,
          semanticVersion: report.tool.version,
          informationUri: report.tool.informationUri,
          rules: rules.map(descriptor),
        },
      },
      columnKind: 'utf16CodeUnits',
      results,
      invocations: [{ executionSuccessful: report.errors.length === 0 && !report.findings.some((f) => f.ruleId === 'DFW900') }],
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
