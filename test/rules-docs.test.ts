// The README examples are tests: every ```iptables incorrect``` block of a rule
// folder's README gives exactly one finding of that rule, every
// ```iptables correct``` block none (and both parse cleanly). A block marked
// ```iptables incorrect parse-error``` is text the parser refuses with a located
// error (rules whose mistake iptables-restore itself rejects: the user sees that
// error, and the rule checks rulesets assembled without the parser).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../grammar/index.ts';
import { ruleOf } from '../src/engine/rule-module.ts';
import { lintCase, readmeExamples } from './rule-tester.ts';

const RULES = new URL('../rules/', import.meta.url);
const RULE_FOLDER = /^[A-Z]+[0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*$/;

const folders = readdirSync(RULES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && RULE_FOLDER.test(d.name)
    && existsSync(new URL(`${d.name}/README.md`, RULES)) && existsSync(new URL(`${d.name}/rule.ts`, RULES)))
  .map((d) => d.name)
  .sort();

for (const folder of folders) {
  const rule = ruleOf(await import(new URL(`${folder}/rule.ts`, RULES).href) as Record<string, unknown>, folder);
  const examples = readmeExamples(readFileSync(new URL(`${folder}/README.md`, RULES), 'utf8'));
  describe(`${folder} README examples`, () => {
    it('has at least one incorrect and one correct example', () => {
      expect(examples.map((e) => e.kind)).toContain('incorrect');
      expect(examples.map((e) => e.kind)).toContain('correct');
    });
    for (const example of examples) {
      if (example.parseError) {
        it(`incorrect example (README.md line ${example.line}) is refused with a located parse error`, () => {
          const { errors } = parse(example.code, { file: 'README.md' });
          expect(errors.length).toBeGreaterThan(0);
          for (const e of errors) expect(e.span.line).toBeGreaterThan(0);
        });
        continue;
      }
      it(`${example.kind} example (README.md line ${example.line})`, () => {
        const findings = lintCase(rule, { code: example.code });
        const shown = findings.map((f) => `${f.line}:${f.column} ${f.message}`);
        expect(shown).toHaveLength(example.kind === 'incorrect' ? 1 : 0);
      });
    }
  });
}
