// RuleTester-style harness for the DFW101–DFW107 tests: `valid` snippets must
// give no finding of the rule, `invalid` ones exactly the listed findings (line,
// column, end column, message id). Every invalid case also checks the finding's
// fix: the snippet with the fix applied (the printed iptables commands replayed
// as iptables-restore lines) must give no finding of the rule any more.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lintText } from '../../src/engine/engine.ts';
import type { Finding, LintRule, LintSettings } from '../../src/engine/types.ts';

export interface ValidCase {
  readonly name: string;
  readonly code: string;
  readonly settings?: Partial<LintSettings>;
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface ExpectedFinding {
  readonly messageId: string;
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  /** Text the message must contain. */
  readonly message?: string | RegExp;
}

export interface InvalidCase extends ValidCase {
  readonly errors: readonly ExpectedFinding[];
  /** Skip the "fix removes the finding" check (e.g. a fix that only some findings' commands complete). */
  readonly fixIsPartial?: boolean;
}

function lint(rule: LintRule, c: ValidCase): Finding[] {
  const result = lintText(c.code, {
    rules: [rule],
    file: 'input.txt',
    ...(c.settings ? { settings: c.settings } : {}),
    ...(c.options ? { ruleConfig: { [rule.meta.id]: { severity: rule.meta.severity, options: c.options } } } : {}),
  });
  expect(result.errors).toEqual([]);
  return result.findings.filter((f) => f.ruleId === rule.meta.id);
}

/** The message template a finding was rendered from (by matching its fixed text). */
function messageIdOf(rule: LintRule, message: string): string | undefined {
  for (const [id, template] of Object.entries(rule.meta.messages as Record<string, string>)) {
    const parts = template.split(/\{\{?\w+\}?\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    if (new RegExp(`^${parts.join('[\\s\\S]*')}$`).test(message)) return id;
  }
  return undefined;
}

/**
 * Replays `iptables [-t table] <command …>` lines into the snippet as iptables-restore
 * lines just before the table's COMMIT (a new table block when the snippet has none).
 */
export function applyFix(code: string, fix: string): string {
  let text = code;
  for (const line of fix.split('\n')) {
    const m = /^ip6?tables\s+(?:-t\s+(\w+)\s+)?(.*)$/.exec(line.trim());
    if (!m) throw new Error(`not an iptables command: ${line}`);
    const table = m[1] ?? 'filter';
    const command = m[2]!;
    const lines = text.split('\n');
    const start = lines.indexOf(`*${table}`);
    if (start === -1) {
      text = `*${table}\n${command}\nCOMMIT\n${text}`;
      continue;
    }
    const commit = lines.findIndex((l, i) => i > start && l === 'COMMIT');
    lines.splice(commit, 0, command);
    text = lines.join('\n');
  }
  return text;
}

export function runRuleTests(rule: LintRule, cases: { valid: readonly ValidCase[]; invalid: readonly InvalidCase[] }): void {
  describe(`${rule.meta.id} ${rule.meta.name}`, () => {
    describe('valid', () => {
      for (const c of cases.valid) {
        it(c.name, () => {
          expect(lint(rule, c).map((f) => `${f.line}: ${f.message}`)).toEqual([]);
        });
      }
    });
    describe('invalid', () => {
      for (const c of cases.invalid) {
        it(c.name, () => {
          const findings = lint(rule, c);
          const got = findings.map((f) => ({ messageId: messageIdOf(rule, f.message), line: f.line, column: f.column, endColumn: f.endColumn }));
          expect(got).toEqual(c.errors.map(({ messageId, line, column, endColumn }) => ({ messageId, line, column, endColumn })));
          c.errors.forEach((e, k) => {
            if (e.message !== undefined) expect(findings[k]!.message).toMatch(e.message);
          });
          for (const f of findings) {
            expect(f.path?.length ?? 0, 'a finding carries the walk that proves it').toBeGreaterThan(0);
            expect(f.fix, 'a finding carries the command that fixes it').toBeTruthy();
          }
          if (c.fixIsPartial) return;
          for (const f of findings) {
            const fixed = lint(rule, { ...c, code: applyFix(c.code, f.fix!) });
            expect(fixed.filter((g) => g.fingerprint === f.fingerprint), `the finding is gone after its fix:\n${f.fix}`).toEqual([]);
            expect(fixed.length, `the fix adds no finding:\n${f.fix}`).toBeLessThan(findings.length);
          }
        });
      }
    });
  });
}

/** The README's ```iptables incorrect``` blocks give exactly one finding of the rule, ```iptables correct``` blocks none. */
export function runReadmeExamples(rule: LintRule, readmeUrl: URL): void {
  describe(`${rule.meta.id} README examples`, () => {
    const readme = readFileSync(readmeUrl, 'utf8');
    const blocks = [...readme.matchAll(/```iptables (incorrect|correct)\n([\s\S]*?)```/g)];
    it('has an incorrect and a correct example', () => {
      expect(blocks.map((b) => b[1])).toContain('incorrect');
      expect(blocks.map((b) => b[1])).toContain('correct');
    });
    blocks.forEach((block, k) => {
      it(`${block[1]} example ${k + 1}`, () => {
        const findings = lint(rule, { name: '', code: block[2]! });
        expect(findings.length).toBe(block[1] === 'incorrect' ? 1 : 0);
      });
    });
  });
}
