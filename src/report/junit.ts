// JUnit XML for GitLab, Jenkins and Azure: one testsuite per file, one testcase
// per rule that ran on it, one failure per finding; unparseable files get a
// DFW000 testcase with one failure per parse error.

import { ENGINE_RULES, PARSE_ERROR } from '../engine/engine-rules.ts';
import type { Finding } from '../engine/types.ts';
import { formatStep } from './text.ts';
import type { LintReport } from './types.ts';

// Characters XML 1.0 cannot carry at all are shown as visible escapes.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;');
}

function attrs(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values).map(([k, v]) => ` ${k}="${escapeXml(String(v)).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;')}"`).join('');
}

function failureBody(f: Finding): string {
  const lines = [`${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.ruleId}]`];
  if (f.path) for (const step of f.path) lines.push(`  ${formatStep(step)}`);
  if (f.fix) lines.push(`fix: ${f.fix}`);
  return lines.join('\n');
}

export function formatJunit(report: LintReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const suites: string[] = [];
  let totalTests = 0;
  let totalFailures = 0;
  const findingsByFile = new Map<string, Finding[]>();
  for (const f of report.findings) findingsByFile.set(f.file, [...(findingsByFile.get(f.file) ?? []), f]);
  for (const file of report.files) {
    const errors = report.errors.filter((e) => e.span.file === file);
    const cases: string[] = [];
    let failures = 0;
    if (errors.length > 0) {
      failures += errors.length;
      cases.push(`    <testcase${attrs({ name: `${PARSE_ERROR.meta.id} ${PARSE_ERROR.meta.name}`, classname: file })}>`);
      for (const e of errors) {
        const text = `${e.span.file}:${e.span.line}:${e.span.column}: error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
        cases.push(`      <failure${attrs({ message: e.message, type: 'error' })}>${escapeXml(text)}</failure>`);
      }
      cases.push('    </testcase>');
    }
    const findings = findingsByFile.get(file) ?? [];
    const ruleIds = new Set(findings.map((f) => f.ruleId));
    // Lint rules that ran are test cases (passing when silent); the engine's own diagnostics only when they fired.
    const engineIds = new Set(ENGINE_RULES.map((r) => r.meta.id));
    const rules = errors.length > 0 ? [] : report.rules.filter((r) => !engineIds.has(r.meta.id));
    const caseRules = [...rules.map((r) => ({ id: r.meta.id, name: r.meta.name }))];
    for (const f of findings) if (!caseRules.some((r) => r.id === f.ruleId)) caseRules.push({ id: f.ruleId, name: f.ruleName });
    caseRules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const rule of caseRules) {
      const name = `${rule.id} ${rule.name}`;
      if (!ruleIds.has(rule.id)) { cases.push(`    <testcase${attrs({ name, classname: file })}/>`); continue; }
      cases.push(`    <testcase${attrs({ name, classname: file })}>`);
      for (const f of findings.filter((x) => x.ruleId === rule.id)) {
        failures++;
        cases.push(`      <failure${attrs({ message: `${f.line}:${f.column} ${f.message}`, type: f.severity })}>${escapeXml(failureBody(f))}</failure>`);
      }
      cases.push('    </testcase>');
    }
    const tests = (errors.length > 0 ? 1 : 0) + caseRules.length;
    totalTests += tests;
    totalFailures += failures;
    suites.push(`  <testsuite${attrs({ name: file, tests, failures, errors: 0, skipped: 0 })}>`, ...cases, '  </testsuite>');
  }
  out.push(`<testsuites${attrs({ name: report.tool.name, tests: totalTests, failures: totalFailures, errors: 0 })}>`, ...suites, '</testsuites>', '');
  return out.join('\n');
}
