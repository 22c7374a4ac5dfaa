import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfig, readConfig, validateConfig } from '../../src/config/load.ts';
import { loadPlugins, resolveRuleConfig } from '../../src/config/resolve.ts';
import { defineRule, type LintRule } from '../../src/engine/types.ts';

const rule = defineRule<'m'>({
  meta: {
    id: 'DFW106', name: 'published-port-open-to-world', severity: 'warning', summary: 's', description: 'd', tags: [], messages: { m: 'm' },
    options: { type: 'object', properties: { allow: { type: 'array', items: { type: 'string' } } }, additionalProperties: false },
  },
  check() {},
});
const plain: LintRule = { meta: { id: 'DFW101', name: 'input-rule-misses-published-port', severity: 'error', summary: 's', description: 'd', tags: [], messages: {} }, check() {} };

function problem(value: unknown) {
  const r = validateConfig(value, 'cfg.json');
  return r.ok ? undefined : `${r.problem.pointer}: ${r.problem.message}`;
}

describe('config schema', () => {
  it('accepts a full config', () => {
    expect(problem({
      $schema: './schemas/config.schema.json',
      rules: { DFW106: 'off', 'input-rule-misses-published-port': ['warning', { x: 1 }], DFW101: ['error'] },
      externalInterfaces: ['eth0', 'ens+'], localAddresses: ['203.0.113.10', '2001:db8::1/64'], intendedPublicPorts: ['tcp/443', '80', 'udp/5000-5010'],
      suppressions: [{ rule: 'DFW106', file: 'hosts/*.txt', match: '--dport 443', reason: 'public web', expires: '2030-12-31' }],
      plugins: ['./my-rules.js'], failureThreshold: 'warning',
    })).toBeUndefined();
  });

  it.each([
    [{ rules: { DFW106: 'bogus' } }, '/rules/DFW106: must be "off", "error", "warning", "info" or ["warning", { …options }]'],
    [{ colour: true }, '/colour: unknown key "colour"'],
    [{ suppressions: [{ rule: 'DFW106' }] }, '/suppressions/0/reason: "reason" is required'],
    [{ suppressions: [{ rule: 'DFW106', reason: 'r', line: 3, match: 'x' }] }, '/suppressions/0: give either "line" or "match", not both'],
    [{ suppressions: [{ rule: 'DFW106', reason: 'r', expires: '2030-13-01' }] }, '/suppressions/0/expires: must be a date YYYY-MM-DD'],
    [{ intendedPublicPorts: ['https'] }, '/intendedPublicPorts/0: must look like "tcp/443", "udp/53", "80" or "8000-8010"'],
    [{ failureThreshold: 'warn' }, '/failureThreshold: must be one of "error", "warning", "info", "none"'],
    [{ plugins: 'x.js' }, '/plugins: must be array'],
  ])('rejects %j with a pointer and a reason', (value, expected) => {
    expect(problem(value)).toBe(expected);
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockfw-config-'));
  it('is found upward from a folder', () => {
    writeFileSync(join(dir, '.dockfw-lint.json'), '{}');
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    expect(findConfig(join(dir, 'a', 'b'))).toBe(join(dir, '.dockfw-lint.json'));
  });
  it('reports bad JSON and missing files', () => {
    writeFileSync(join(dir, 'bad.json'), '{ "rules": ');
    const bad = readConfig(join(dir, 'bad.json'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problem.message).toMatch(/^not valid JSON/);
    const missing = readConfig(join(dir, 'nope.json'));
    expect(!missing.ok && missing.problem.message).toBe('config file not found');
  });
});

describe('rule config', () => {
  it('resolves names to ids and validates options lazily', async () => {
    const ok = await resolveRuleConfig({ rules: { 'published-port-open-to-world': ['info', { allow: ['a'] }], dfw101: 'off' } }, [rule, plain], 'c.json');
    expect(ok).toEqual({ ok: true, value: { DFW106: { severity: 'info', options: { allow: ['a'] } }, DFW101: { severity: 'off' } } });
    const bad = await resolveRuleConfig({ rules: { DFW106: ['info', { alow: [] }] } }, [rule], 'c.json');
    expect(!bad.ok && `${bad.problem.pointer}: ${bad.problem.message}`).toBe('/rules/DFW106/1: invalid options for DFW106: unknown option "alow"');
    const unknown = await resolveRuleConfig({ rules: { DFW999: 'off' } }, [rule], 'c.json');
    expect(!unknown.ok && unknown.problem.message).toBe('unknown rule "DFW999"');
  });
});

describe('plugins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockfw-plugins-'));
  const config = join(dir, '.dockfw-lint.json');
  it('loads rules relative to the config file', async () => {
    writeFileSync(join(dir, 'ok.mjs'), `export const rules = [{ meta: { id: 'ACME1', name: 'acme-rule', severity: 'info', summary: 's', description: 'd', tags: [], messages: { m: 'x' } }, check() {} }];`);
    const r = await loadPlugins({ plugins: ['./ok.mjs'] }, config, [rule]);
    expect(r.ok && r.value.map((x) => x.meta.id)).toEqual(['ACME1']);
  });
  it.each([
    ['./missing.mjs', undefined, /^plugin "\.\/missing\.mjs" not found/],
    ['./broken.mjs', 'export const = ;', /^plugin "\.\/broken\.mjs" failed to load: /],
    ['./empty.mjs', 'export const x = 1;', /^plugin "\.\/empty\.mjs" exports no rules$/],
    ['./shape.mjs', 'export default [{ meta: { id: "lower", name: "x" }, check() {} }];', /rule #1 meta\.id "lower" is not a code like DFW101/],
    ['./clash.mjs', `export default { meta: { id: 'DFW106', name: 'other', severity: 'info', summary: 's', description: 'd', tags: [], messages: {} }, check() {} };`, /clashes with DFW106/],
  ])('%s gives a clear problem', async (spec, text, expected) => {
    if (text !== undefined) writeFileSync(join(dir, spec), text);
    const r = await loadPlugins({ plugins: [spec] }, config, [rule]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem.message).toMatch(expected);
      expect(r.problem.pointer).toBe('/plugins/0');
    }
  });
});
