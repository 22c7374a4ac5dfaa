// Meta-test of the rule folders: every rules/<ID>-<name>/ holds rule.ts,
// README.md (with the sections every rule documents) and rule.test.ts; the
// rule's id and name spell the folder's name; ids and names are unique; every
// rule is in the generated registry (rules/index.ts) and the registry holds
// nothing else; options are documented and their defaults valid.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { builtinRules } from '../rules/index.ts';
import { ENGINE_RULES } from '../src/engine/engine-rules.ts';
import { ruleOf } from '../src/engine/rule-module.ts';
import type { LintRule } from '../src/engine/types.ts';

const RULES = new URL('../rules/', import.meta.url);
/**
 * A rule folder: an id (letters then digits), a dash, the kebab-case name (as scripts/gen-rules-index.mjs reads them).
 * Shared code lives in folders that do not match (DFW101-DFW107-lib, IPT2xx-lib).
 */
const RULE_FOLDER = /^[A-Z]+[0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const README_SECTIONS = [
  'What it finds', 'Why it matters on a Docker host', 'Incorrect', 'Correct', 'Options', 'When not to use it', 'References',
] as const;

const folders = readdirSync(RULES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && RULE_FOLDER.test(d.name))
  .map((d) => d.name)
  .sort();

const loaded = new Map<string, { rule?: LintRule; problem?: string }>();
for (const folder of folders) {
  const file = new URL(`${folder}/rule.ts`, RULES);
  if (!existsSync(file)) { loaded.set(folder, { problem: 'no rule.ts' }); continue; }
  try {
    loaded.set(folder, { rule: ruleOf(await import(file.href) as Record<string, unknown>, `rules/${folder}/rule.ts`) });
  } catch (error) {
    loaded.set(folder, { problem: error instanceof Error ? error.message : String(error) });
  }
}

function sectionsOf(readme: string): string[] {
  return [...readme.matchAll(/^## (.+?)\s*$/gm)].map((m) => m[1]!);
}

function section(readme: string, name: string): string {
  const start = readme.search(new RegExp(`^## ${name}\\s*$`, 'm'));
  if (start === -1) return '';
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  return end === -1 ? rest : rest.slice(0, end);
}

describe('rule folders', () => {
  it('there are rule folders', () => {
    expect(folders.length).toBeGreaterThan(0);
  });

  for (const folder of folders) {
    describe(folder, () => {
      const readmePath = new URL(`${folder}/README.md`, RULES);
      const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';

      it('has rule.ts, README.md and rule.test.ts', () => {
        const missing = ['rule.ts', 'README.md', 'rule.test.ts'].filter((f) => !existsSync(new URL(`${folder}/${f}`, RULES)));
        expect(missing).toEqual([]);
      });

      it('exports one rule whose meta.id and meta.name spell the folder name', () => {
        const { rule, problem } = loaded.get(folder)!;
        expect(problem).toBeUndefined();
        expect(`${rule!.meta.id}-${rule!.meta.name}`).toBe(folder);
      });

      it('has a one-line summary, a description and non-empty messages', () => {
        const meta = loaded.get(folder)!.rule!.meta;
        expect(meta.summary.trim()).not.toBe('');
        expect(meta.summary).not.toMatch(/\n/);
        expect(meta.description.trim()).not.toBe('');
        const messages = Object.entries(meta.messages as Record<string, string>);
        expect(messages.length).toBeGreaterThan(0);
        for (const [id, text] of messages) expect(text.trim(), `message ${id}`).not.toBe('');
      });

      it('README is titled with the id and name and has every section, in order', () => {
        const meta = loaded.get(folder)!.rule!.meta;
        expect(readme.split('\n')[0]).toBe(`# ${meta.id} ${meta.name}`);
        const sections = sectionsOf(readme).filter((s) => (README_SECTIONS as readonly string[]).includes(s));
        expect(sections).toEqual([...README_SECTIONS]);
      });

      it('README has an incorrect and a correct example', () => {
        expect(readme).toMatch(/^```iptables incorrect( parse-error)?\s*$/m);
        expect(readme).toMatch(/^```iptables correct\s*$/m);
      });

      it('documents every option in the README, and its defaults satisfy its schema', () => {
        const meta = loaded.get(folder)!.rule!.meta;
        const properties = Object.keys((meta.options?.properties as Record<string, unknown> | undefined) ?? {});
        const options = section(readme, 'Options');
        for (const name of properties) expect(options, `option "${name}" in ## Options`).toContain(`\`${name}\``);
        if (meta.options) {
          const validate = new Ajv({ strict: false }).compile(meta.options);
          expect(validate(meta.defaultOptions ?? {}), JSON.stringify(validate.errors)).toBe(true);
        }
      });

      it('is registered in rules/index.ts', () => {
        const id = loaded.get(folder)!.rule!.meta.id;
        expect(builtinRules.map((r) => r.meta.id)).toContain(id);
      });
    });
  }

  it('ids and names are unique (engine diagnostics included)', () => {
    const rules = [...ENGINE_RULES, ...[...loaded.values()].flatMap((l) => (l.rule ? [l.rule] : []))];
    const ids = rules.map((r) => r.meta.id);
    const names = rules.map((r) => r.meta.name);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('the registry holds exactly the rule folders', () => {
    const fromFolders = [...loaded.values()].flatMap((l) => (l.rule ? [l.rule.meta.id] : [])).sort();
    expect(builtinRules.map((r) => r.meta.id).sort()).toEqual(fromFolders);
  });
});
