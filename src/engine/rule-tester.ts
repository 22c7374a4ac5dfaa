// A RuleTester for rules/<ID>-<name>/rule.test.ts (vitest), in the style of
// ESLint's: `valid` snippets must give no finding of the rule, `invalid` ones
// exactly the listed findings, in order, with their line, column, end column
// and message id. Snippets must parse cleanly. Only test files import this.
//
//   import { ruleTester } from '../../src/engine/rule-tester.ts';
//   import rule from './rule.ts';
//   ruleTester(rule, {
//     valid: [SNIPPET, { code: SNIPPET, settings: { intendedPublicPorts: ['tcp/443'] } }],
//     invalid: [{ code: SNIPPET, errors: [{ messageId: 'open', line: 12, column: 1, endColumn: 80 }] }],
//   });

import { describe, expect, it } from 'vitest';
import { lintText, type RuleConfig } from './engine.ts';
import type { Finding, LintRule, LintSettings, Severity } from './types.ts';

export interface TestCase {
  /** The test's title (default: the first lines of the code). */
  readonly name?: string;
  readonly code: string;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly settings?: Partial<LintSettings>;
  /** Default `input.txt`; a name with `v6`/`ip6tables` decides the family of a header-less snippet. */
  readonly file?: string;
  /** Only this case runs (debugging). */
  readonly only?: boolean;
}

export interface ExpectedFinding {
  readonly messageId?: string;
  /** The rendered message, exactly, or a pattern. */
  readonly message?: string | RegExp;
  readonly line?: number;
  readonly column?: number;
  readonly endColumn?: number;
  readonly severity?: Severity;
  /** The fix text must contain this. */
  readonly fix?: string;
}

export interface InvalidCase extends TestCase {
  readonly errors: readonly ExpectedFinding[];
}

function title(c: TestCase): string {
  return c.name ?? c.code.split('\n').filter((l) => l.startsWith('-A') || l.startsWith('-I')).slice(0, 2).join(' | ').slice(0, 120);
}

/** Lints a snippet with this rule alone; throws when the snippet does not parse. */
export function findingsOf<M extends string>(rule: LintRule<M>, c: TestCase): Finding[] {
  const ruleConfig: RuleConfig = c.options ? { [rule.meta.id]: { severity: rule.meta.severity, options: c.options } } : {};
  const { findings, errors } = lintText(c.code, { rules: [rule as LintRule], settings: c.settings, file: c.file, ruleConfig });
  if (errors.length > 0) {
    throw new Error(`the snippet does not parse:\n${errors.map((e) => `  ${e.span.line}:${e.span.column}: ${e.message}`).join('\n')}`);
  }
  return findings.filter((f) => f.ruleId === rule.meta.id);
}

function pick(f: Finding, want: ExpectedFinding): Record<string, unknown> {
  const got: Record<string, unknown> = {};
  if (want.messageId !== undefined) got.messageId = f.messageId;
  if (want.message !== undefined) got.message = want.message instanceof RegExp && want.message.test(f.message) ? want.message : f.message;
  if (want.line !== undefined) got.line = f.line;
  if (want.column !== undefined) got.column = f.column;
  if (want.endColumn !== undefined) got.endColumn = f.endColumn;
  if (want.severity !== undefined) got.severity = f.severity;
  if (want.fix !== undefined) got.fix = f.fix?.includes(want.fix) ? want.fix : f.fix;
  return got;
}

export function ruleTester<M extends string>(rule: LintRule<M>, cases: { readonly valid: readonly (string | TestCase)[]; readonly invalid: readonly InvalidCase[] }): void {
  describe(`${rule.meta.id} ${rule.meta.name}`, () => {
    describe('valid', () => {
      for (const raw of cases.valid) {
        const c = typeof raw === 'string' ? { code: raw } : raw;
        (c.only ? it.only : it)(title(c), () => {
          expect(findingsOf(rule, c).map((f) => `${f.line}:${f.column} ${f.message}`)).toEqual([]);
        });
      }
    });
    describe('invalid', () => {
      for (const c of cases.invalid) {
        (c.only ? it.only : it)(title(c), () => {
          if (c.errors.length === 0) throw new Error('an invalid case must list at least one expected finding');
          const found = findingsOf(rule, c);
          expect(found.map((f, i) => pick(f, c.errors[i] ?? {}))).toEqual(c.errors.map((e) => ({ ...e })));
        });
      }
    });
  });
}
