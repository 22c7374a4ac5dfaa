// From a validated config to what the engine takes: rule severities and
// options keyed by id, plugins' rules, settings. Problems are values with the
// config file and the JSON pointer of the offending key.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuleConfig, RuleSetting } from '../engine/engine.ts';
import { ruleProblem } from '../engine/rule-module.ts';
import type { JsonSchema, LintRule } from '../engine/types.ts';
import { importModule } from './import-module.ts';
import type { ConfigFile, Result } from './types.ts';

function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function ruleIndex(rules: readonly LintRule[]): Map<string, LintRule> {
  const index = new Map<string, LintRule>();
  for (const rule of rules) {
    index.set(rule.meta.id.toUpperCase(), rule);
    index.set(rule.meta.name.toLowerCase(), rule);
  }
  return index;
}

type OptionsValidator = (schema: JsonSchema, options: unknown) => string | undefined;

/** ajv, loaded only when a config gives a rule options (start-up stays lean otherwise). */
async function ajvValidator(): Promise<OptionsValidator> {
  const module = await importModule('ajv') as typeof import('ajv');
  // CommonJS interop differs between Node (module.default.default) and the bundle (module.default).
  type AjvConstructor = typeof module.Ajv;
  const exported = module.default as unknown as AjvConstructor | { default: AjvConstructor };
  const AjvClass = 'default' in exported ? exported.default : exported;
  const ajv = new AjvClass({ allErrors: false, strict: false, useDefaults: false });
  return (schema, options) => {
    const validate = ajv.compile(schema as object);
    if (validate(options)) return undefined;
    const error = validate.errors?.[0];
    if (!error) return 'invalid options';
    if (error.keyword === 'additionalProperties') return `unknown option "${String(error.params.additionalProperty)}"`;
    return `${error.instancePath ? `${error.instancePath.slice(1)} ` : ''}${error.message ?? 'is invalid'}`;
  };
}

/** Resolves `rules` keys (ids or names) to ids and checks options against each rule's schema. */
export async function resolveRuleConfig(config: ConfigFile, rules: readonly LintRule[], file: string): Promise<Result<RuleConfig>> {
  const index = ruleIndex(rules);
  const resolved: Record<string, RuleSetting> = {};
  let validator: OptionsValidator | undefined;
  for (const [key, value] of Object.entries(config.rules ?? {})) {
    const pointer = `/rules/${pointerKey(key)}`;
    const rule = index.get(key.toUpperCase()) ?? index.get(key.toLowerCase());
    if (!rule) return { ok: false, problem: { file, pointer, message: `unknown rule "${key}"`, hint: 'run `dockfw-lint --list-rules` for the ids and names' } };
    if (resolved[rule.meta.id]) return { ok: false, problem: { file, pointer, message: `${rule.meta.id} (${rule.meta.name}) is configured twice` } };
    const [severity, options] = typeof value === 'string' ? [value, undefined] : [value[0], value[1]];
    if (options !== undefined && Object.keys(options).length > 0) {
      if (!rule.meta.options) return { ok: false, problem: { file, pointer: `${pointer}/1`, message: `${rule.meta.id} takes no options` } };
      validator ??= await ajvValidator();
      const problem = validator(rule.meta.options, options);
      if (problem) return { ok: false, problem: { file, pointer: `${pointer}/1`, message: `invalid options for ${rule.meta.id}: ${problem}` } };
    }
    resolved[rule.meta.id] = options ? { severity, options } : { severity };
  }
  return { ok: true, value: resolved };
}

/** Rules a module provides: `export default rule | rule[] | { rules }`, or `export const rules = [...]`. */
function rulesOfModule(module: Record<string, unknown>): unknown[] | undefined {
  const candidates = [module.rules, module.default, (module.default as { rules?: unknown } | undefined)?.rules];
  for (const c of candidates) {
    if (Array.isArray(c)) return c;
  }
  const single = module.default;
  if (typeof single === 'object' && single !== null && 'meta' in single && 'check' in single) return [single];
  return undefined;
}

/**
 * Imports the config's plugins (paths relative to the config file). Only the
 * user's own config names plugins: nothing in a ruleset ever loads code.
 */
export async function loadPlugins(config: ConfigFile, configPath: string, builtin: readonly LintRule[]): Promise<Result<LintRule[]>> {
  const loaded: LintRule[] = [];
  const taken = ruleIndex(builtin);
  for (const [i, spec] of (config.plugins ?? []).entries()) {
    const pointer = `/plugins/${i}`;
    const path = isAbsolute(spec) ? spec : resolve(dirname(configPath), spec);
    if (!existsSync(path)) {
      return { ok: false, problem: { file: configPath, pointer, message: `plugin "${spec}" not found (looked for ${path})`, hint: 'plugin paths are relative to the config file' } };
    }
    let module: Record<string, unknown>;
    try {
      module = await importModule(pathToFileURL(path).href) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { ok: false, problem: { file: configPath, pointer, message: `plugin "${spec}" failed to load: ${reason}` } };
    }
    const rules = rulesOfModule(module);
    if (!rules) {
      return { ok: false, problem: { file: configPath, pointer, message: `plugin "${spec}" exports no rules`, hint: 'export `rules` (an array of rules) or a default export that is a rule, an array of rules or { rules }' } };
    }
    for (const [j, rule] of rules.entries()) {
      const problem = ruleProblem(rule);
      if (problem) return { ok: false, problem: { file: configPath, pointer, message: `plugin "${spec}": rule #${j + 1} ${problem}` } };
      const r = rule as LintRule;
      const clash = taken.get(r.meta.id.toUpperCase()) ?? taken.get(r.meta.name.toLowerCase());
      if (clash) return { ok: false, problem: { file: configPath, pointer, message: `plugin "${spec}": rule ${r.meta.id} (${r.meta.name}) clashes with ${clash.meta.id} (${clash.meta.name})` } };
      taken.set(r.meta.id.toUpperCase(), r);
      taken.set(r.meta.name.toLowerCase(), r);
      loaded.push(r);
    }
  }
  return { ok: true, value: loaded };
}
