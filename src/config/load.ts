// Finding, reading and validating `.dockfw-lint.json`. Validation uses the
// validator precompiled from schemas/config.schema.json (no ajv at start-up).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type AjvError, describeAjvError } from './ajv-errors.ts';
import { validate as validateConfigSchema } from './generated/config-validator.ts';
import type { ConfigFile, ConfigProblem, Result } from './types.ts';

export const CONFIG_FILE_NAME = '.dockfw-lint.json';

/** The nearest `.dockfw-lint.json` in `from` or any folder above it. */
export function findConfig(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function describe(error: AjvError): { pointer: string; message: string } {
  const pointer = error.instancePath || '/';
  switch (error.keyword) {
    case 'anyOf':
      if (/^\/rules\//.test(error.instancePath)) return { pointer, message: 'must be "off", "error", "warning", "info" or ["warning", { …options }]' };
      return { pointer, message: error.message ?? 'is invalid' };
    case 'not':
      if (/^\/suppressions\/\d+$/.test(error.instancePath)) return { pointer, message: 'give either "line" or "match", not both' };
      return { pointer, message: error.message ?? 'is invalid' };
    case 'pattern':
      if (/^\/intendedPublicPorts\//.test(error.instancePath)) return { pointer, message: 'must look like "tcp/443", "udp/53", "80" or "8000-8010"' };
      if (/\/expires$/.test(error.instancePath)) return { pointer, message: 'must be a date YYYY-MM-DD' };
      if (/\/reason$/.test(error.instancePath)) return { pointer, message: 'must say why (not blank)' };
      if (/^\/localAddresses\//.test(error.instancePath)) return { pointer, message: 'must be an IP address, optionally with /prefix' };
      if (/^\/externalInterfaces\//.test(error.instancePath)) return { pointer, message: 'must be an interface name (at most 15 characters, no spaces)' };
      if (error.params.propertyName !== undefined) return { pointer, message: `"${String(error.params.propertyName)}" is not a rule id or name` };
      return { pointer, message: error.message ?? 'is invalid' };
    case 'propertyNames':
      return { pointer, message: 'contains a key that is not a rule id or name' };
    default:
      return describeAjvError(error);
  }
}

/** Validates parsed JSON against the config schema. */
export function validateConfig(value: unknown, file: string): Result<ConfigFile> {
  const validate = validateConfigSchema as ((v: unknown) => boolean) & { errors?: AjvError[] | null };
  if (validate(value)) return { ok: true, value: value as ConfigFile };
  const errors = validate.errors ?? [];
  const chosen = errors.find((e) => e.keyword === 'anyOf') ?? errors.find((e) => e.keyword === 'pattern' && e.params.propertyName !== undefined) ?? errors[0];
  const { pointer, message } = chosen ? describe(chosen) : { pointer: '/', message: 'is invalid' };
  return { ok: false, problem: { file, pointer, message, hint: 'see schemas/config.schema.json for what each key takes' } };
}

export interface LoadedConfig {
  /** Absolute path. */
  readonly path: string;
  readonly text: string;
  readonly config: ConfigFile;
}

/** Reads and validates a config file. */
export function readConfig(path: string): Result<LoadedConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem: ConfigProblem = { file: path, message: code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? String(error)})` };
    return { ok: false, problem };
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, problem: { file: path, message: `not valid JSON: ${(error as Error).message}` } };
  }
  const validated = validateConfig(value, path);
  if (!validated.ok) return validated;
  return { ok: true, value: { path, text, config: validated.value } };
}

export function formatConfigProblem(problem: ConfigProblem): string {
  const where = problem.pointer ? `${problem.file}: ${problem.pointer}` : problem.file;
  return `${where}: error: ${problem.message}${problem.hint ? `\n  hint: ${problem.hint}` : ''}`;
}
