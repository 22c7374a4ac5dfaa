// RuleTester for rule folders (rules/<ID>-<name>/rule.test.ts), in the style of
// typescript-eslint's: `valid` snippets must give no finding of the rule,
// `invalid` ones exactly the listed findings, in report order, each with its
// message id, line, column (and end column when given). Built on vitest's
// describe/it and the engine's lintText, so a rule is tested exactly as the
// CLI runs it (real Docker model and simulator included).
//
//   import { RuleTester } from '../../test/rule-tester.ts';
//   import rule from './rule.ts';
//
//   const ruleTester = new RuleTester();
//   ruleTester.run(rule, {
//     valid: [
//       SNIPPET,                                                     // a string is { code }
//       { code: SNIPPET, settings: { externalInterfaces: ['ens3'] } },
//     ],
//     invalid: [
//       { code: SNIPPET, options: { chains: ['INPUT'] },
//         errors: [{ messageId: 'policyAccept', line: 4, column: 1, endColumn: 20 }] },
//     ],
//   });
//
// What every case gets checked for, beyond the findings themselves:
// - the snippet parses cleanly (a test of a rule on a broken file tests nothing);
// - `fix` replay (default on): each finding's fix, a list of `iptables …`/`ip6tables …`
//   commands joined by `&&`, `;` or new lines, is replayed into the snippet as
//   iptables-restore lines before the table's COMMIT; the fixed snippet must still
//   parse, must no longer give that finding, and must give fewer findings of the
//   rule than before. Turn it off per case (`checkFix: false`) for fixes that are
//   not iptables commands, or for the whole tester (`new RuleTester({ checkFixes: false })`).
// - `transform`: edits the parsed rulesets before the rule runs, for states the
//   parser refuses to build from text (rulesets assembled by a plugin or merged
//   from several sources). Fix replay is skipped for such cases.

import { describe, expect, it } from 'vitest';
import type { Family, Ruleset } from '../grammar/ast.ts';
import { parse } from '../grammar/index.ts';
import { DEFAULT_SETTINGS, lintHosts, lintText, type RuleConfig } from '../src/engine/engine.ts';
import { buildHosts, defaultAnalysers } from '../src/engine/host.ts';
import type { Finding, Host, LintRule, LintSettings, RulesetView } from '../src/engine/types.ts';

export interface ValidCase {
  /** The test's title (default: the snippet's first rule lines). */
  readonly name?: string;
  /** An iptables-save (and/or ip6tables-save) snippet. */
  readonly code: string;
  /** The rule's options (merged over its defaultOptions, as the config would). */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly settings?: Partial<LintSettings>;
  /** The file name spans carry (default `input.txt`). */
  readonly file?: string;
  /** The family of a snippet that neither its header nor its addresses tell. */
  readonly family?: Family;
  /** Edits the parsed rulesets before linting (see the file comment). */
  readonly transform?: (rulesets: readonly Ruleset[]) => readonly Ruleset[];
  /** Only this case runs (debugging; never commit it). */
  readonly only?: boolean;
}

export interface ExpectedError {
  readonly messageId: string;
  /** Where the finding is; each is compared when given (rule folders give line and column). */
  readonly line?: number;
  readonly column?: number;
  readonly endColumn?: number;
  /** The rendered message: exactly this text, or matching this pattern. */
  readonly message?: string | RegExp;
  /** The fix: exactly this text, or matching this pattern. */
  readonly fix?: string | RegExp;
  /** The fix holds this text (one command of several, say). */
  readonly fixIncludes?: string;
}

export interface InvalidCase extends ValidCase {
  readonly errors: readonly ExpectedError[];
  /** Replay each finding's fix (default: the tester's `checkFixes`). */
  readonly checkFix?: boolean;
}

export interface RuleTesterOptions {
  /** Settings every case starts from. */
  readonly settings?: Partial<LintSettings>;
  readonly file?: string;
  /** Replay every finding's fix (default true). */
  readonly checkFixes?: boolean;
}

export interface RuleTests {
  readonly valid: readonly (string | ValidCase)[];
  readonly invalid: readonly InvalidCase[];
}

/** The case's title: its name, or its first rule lines. */
function titleOf(c: ValidCase): string {
  if (c.name) return c.name;
  const rules = c.code.split('\n').filter((l) => /^(\[\d+:\d+\]\s*)?-[AI] /.test(l));
  return (rules.length > 0 ? rules.slice(0, 2).join(' | ') : c.code.split('\n')[0] ?? '').slice(0, 140) || '(empty)';
}

function hostWithRulesets(host: Host, rulesets: readonly Ruleset[], settings: LintSettings): Host {
  const views: RulesetView[] = rulesets.map((ruleset) => {
    const docker = defaultAnalysers.recogniseDocker(ruleset);
    const simulator = defaultAnalysers.createSimulator(ruleset, docker, {
      localAddresses: settings.localAddresses, externalInterfaces: settings.externalInterfaces,
    });
    return { ruleset, docker, simulator };
  });
  return {
    ...host,
    views,
    ipv4: views.find((v) => v.ruleset.family === 'ipv4'),
    ipv6: views.find((v) => v.ruleset.family === 'ipv6'),
  };
}

/**
 * Lints one case with this rule alone and returns the rule's findings.
 * Throws when the snippet does not parse.
 */
export function lintCase(rule: LintRule, c: ValidCase, defaults: RuleTesterOptions = {}): Finding[] {
  const settings: LintSettings = { ...DEFAULT_SETTINGS, ...defaults.settings, ...c.settings };
  const file = c.file ?? defaults.file ?? 'input.txt';
  const ruleConfig: RuleConfig = c.options ? { [rule.meta.id]: { severity: rule.meta.severity, options: c.options } } : {};
  let findings: readonly Finding[];
  if (!c.transform) {
    const result = lintText(c.code, { rules: [rule], settings, file, family: c.family, ruleConfig });
    if (result.errors.length > 0) throw new Error(`the snippet does not parse:\n${formatErrors(result.errors)}`);
    findings = result.findings;
  } else {
    const built = buildHosts([{ file, text: c.code }], settings, c.family);
    if (built.errors.length > 0) throw new Error(`the snippet does not parse:\n${formatErrors(built.errors)}`);
    const transform = c.transform;
    const hosts = built.hosts.map((h) => hostWithRulesets(h, transform(h.views.map((v) => v.ruleset)), settings));
    findings = lintHosts(hosts, [rule], settings, ruleConfig);
  }
  return findings.filter((f) => f.ruleId === rule.meta.id);
}

function formatErrors(errors: readonly { span: { line: number; column: number }; message: string }[]): string {
  return errors.map((e) => `  ${e.span.line}:${e.span.column}: ${e.message}`).join('\n');
}

const COMMAND = /^(ip6?tables)\s+(?:-t\s+(\S+)\s+)?(.+)$/;

/**
 * The snippet with a fix replayed: each `iptables [-t TABLE] <command>` becomes an
 * iptables-restore line just before the COMMIT of that table in the ruleset of the
 * command's family (`ip6tables` → the IPv6 one); a table the ruleset lacks is added.
 */
export function applyFix(code: string, fix: string): string {
  let text = code;
  const commands = fix.split(/\s*(?:&&|;|\n)\s*/).filter((c) => c.trim() !== '');
  for (const command of commands) {
    const m = COMMAND.exec(command.trim());
    if (!m) throw new Error(`the fix is not a list of iptables commands: "${command}"`);
    const family: Family = m[1] === 'ip6tables' ? 'ipv6' : 'ipv4';
    const table = m[2] ?? 'filter';
    const line = m[3]!;
    const lines = text.split('\n');
    const rulesets = parse(text, { file: 'fix.txt' }).rulesets;
    const ruleset = rulesets.length === 1 ? rulesets[0] : rulesets.find((r) => r.family === family);
    const first = (ruleset?.startLine ?? 1) - 1;
    const last = (ruleset?.endLine ?? lines.length) - 1;
    let start = -1;
    for (let i = first; i <= last && i < lines.length; i++) if (lines[i]!.trim() === `*${table}`) start = i;
    if (start === -1) {
      lines.splice(last + 1, 0, `*${table}`, line, 'COMMIT');
    } else {
      let commit = start + 1;
      while (commit < lines.length && lines[commit]!.trim() !== 'COMMIT') commit++;
      lines.splice(commit, 0, line);
    }
    text = lines.join('\n');
  }
  return text;
}

export interface ReadmeExample {
  readonly kind: 'incorrect' | 'correct';
  /**
   * ```` ```iptables incorrect parse-error ````: text the parser refuses (as iptables-restore does), for rules
   * whose mistake cannot reach the AST from a file; the example shows the located error the user gets instead.
   */
  readonly parseError: boolean;
  readonly code: string;
  /** The README line of the opening fence. */
  readonly line: number;
}

/** The ```iptables incorrect``` and ```iptables correct``` blocks of a rule's README. */
export function readmeExamples(readme: string): ReadmeExample[] {
  const out: ReadmeExample[] = [];
  for (const m of readme.matchAll(/^```iptables (incorrect|correct)( parse-error)?[ \t]*\n([\s\S]*?)^```/gm)) {
    out.push({
      kind: m[1] as 'incorrect' | 'correct',
      parseError: m[2] !== undefined,
      code: m[3]!,
      line: readme.slice(0, m.index).split('\n').length,
    });
  }
  return out;
}

function picked(f: Finding, want: ExpectedError): Record<string, unknown> {
  const got: Record<string, unknown> = { messageId: f.messageId };
  if (want.line !== undefined) got.line = f.line;
  if (want.column !== undefined) got.column = f.column;
  if (want.endColumn !== undefined) got.endColumn = f.endColumn;
  if (want.fixIncludes !== undefined) got.fixIncludes = f.fix?.includes(want.fixIncludes) ? want.fixIncludes : f.fix;
  if (want.message !== undefined) got.message = typeof want.message === 'string' || !want.message.test(f.message) ? f.message : want.message;
  if (want.fix !== undefined) got.fix = typeof want.fix === 'string' || !want.fix.test(f.fix ?? '') ? f.fix : want.fix;
  return got;
}

export class RuleTester {
  constructor(private readonly defaults: RuleTesterOptions = {}) {}

  run<M extends string>(rule: LintRule<M>, tests: RuleTests): void {
    const lintRule = rule as unknown as LintRule;
    describe(`${rule.meta.id} ${rule.meta.name}`, () => {
      describe('valid', () => {
        for (const raw of tests.valid) {
          const c: ValidCase = typeof raw === 'string' ? { code: raw } : raw;
          (c.only ? it.only : it)(titleOf(c), () => {
            const found = lintCase(lintRule, c, this.defaults);
            expect(found.map((f) => `${f.line}:${f.column} ${f.messageId ?? ''}: ${f.message}`)).toEqual([]);
          });
        }
      });
      describe('invalid', () => {
        for (const c of tests.invalid) {
          (c.only ? it.only : it)(titleOf(c), () => {
            if (c.errors.length === 0) throw new Error('an invalid case lists at least one expected finding');
            const messageIds = Object.keys(rule.meta.messages);
            for (const e of c.errors) expect(messageIds, `messageId "${e.messageId}" is one of the rule's`).toContain(e.messageId);
            const found = lintCase(lintRule, c, this.defaults);
            expect(found.map((f, i) => picked(f, c.errors[i] ?? { messageId: '' })))
              .toEqual(c.errors.map((e) => ({ ...e })));
            if (c.transform || !(c.checkFix ?? this.defaults.checkFixes ?? true)) return;
            for (const f of found) {
              expect(f.fix, `finding at line ${f.line} has a fix`).toBeTruthy();
              const fixedCode = applyFix(c.code, f.fix!);
              const after = lintCase(lintRule, { ...c, code: fixedCode }, this.defaults);
              expect(after.filter((g) => g.fingerprint === f.fingerprint), `the finding at line ${f.line} is gone after its fix:\n${f.fix}`).toEqual([]);
              expect(after.length, `the fix adds no finding:\n${f.fix}`).toBeLessThan(found.length);
            }
          });
        }
      });
    });
  }
}
