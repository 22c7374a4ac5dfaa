// The baseline file: findings accepted as they are, keyed by file, rule id and
// fingerprint (never by line: Docker reorders rules, and counters and
// timestamps change on every capture). Versioned JSON, described by
// schemas/baseline.schema.json and checked with the validator precompiled from it.

import { type AjvError, describeAjvError } from '../config/ajv-errors.ts';
import type { ConfigProblem, Result } from '../config/types.ts';
import { validate as validateBaselineSchema } from './generated/baseline-validator.ts';

export const BASELINE_VERSION = 1;
export const BASELINE_SCHEMA_URL = 'https://github.com/dockfw-lint/dockfw-lint/blob/main/schemas/baseline.schema.json';

export interface BaselineEntry {
  /** The host file as shown in reports: relative to the working directory, with `/`. */
  readonly file: string;
  readonly ruleId: string;
  /** Finding.fingerprint: table + chain + the rule's canonical text (+ an occurrence number for identical rules). */
  readonly fingerprint: string;
  /** For reviewers, not part of the key: the line the finding was on, counters removed. */
  readonly text?: string;
  /** For reviewers, not part of the key. */
  readonly message?: string;
  /** Why the finding is accepted; carried over when the baseline is rewritten. */
  readonly reason?: string;
}

export interface Baseline {
  readonly version: typeof BASELINE_VERSION;
  readonly entries: readonly BaselineEntry[];
}

/** The key a finding and an entry share. */
export function baselineKey(entry: Pick<BaselineEntry, 'file' | 'ruleId' | 'fingerprint'>): string {
  return `${entry.file}\u0000${entry.ruleId}\u0000${entry.fingerprint}`;
}

function describe(error: AjvError): { pointer: string; message: string } {
  if (error.keyword === 'pattern' && /\/fingerprint$/.test(error.instancePath)) return { pointer: error.instancePath, message: 'must be a fingerprint: 16 hexadecimal digits' };
  if (error.keyword === 'pattern' && /\/ruleId$/.test(error.instancePath)) return { pointer: error.instancePath, message: 'must be a rule id like DFW106' };
  return describeAjvError(error);
}

const HINT = 'see schemas/baseline.schema.json; `dockfw-lint --write-baseline FILE` writes a fresh one';

/** Parses and validates a baseline's text. `file` is the display path for problems. */
export function parseBaseline(text: string, file: string): Result<Baseline> {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, problem: { file, message: `not valid JSON: ${(error as Error).message}`, hint: HINT } };
  }
  const validate = validateBaselineSchema as ((v: unknown) => boolean) & { errors?: AjvError[] | null };
  if (validate(value)) return { ok: true, value: value as Baseline };
  const error = validate.errors?.[0];
  const { pointer, message } = error ? describe(error) : { pointer: '/', message: 'is invalid' };
  const problem: ConfigProblem = { file, pointer, message, hint: HINT };
  return { ok: false, problem };
}

function compareEntries(a: BaselineEntry, b: BaselineEntry): number {
  const ka = baselineKey(a);
  const kb = baselineKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The file's text: entries sorted by file, rule id and fingerprint (stable under reordering), keys in a fixed order. */
export function renderBaseline(entries: readonly BaselineEntry[]): string {
  const unique = new Map<string, BaselineEntry>();
  for (const entry of [...entries].sort(compareEntries)) if (!unique.has(baselineKey(entry))) unique.set(baselineKey(entry), entry);
  const document = {
    $schema: BASELINE_SCHEMA_URL,
    version: BASELINE_VERSION,
    entries: [...unique.values()].map((e) => ({
      file: e.file,
      ruleId: e.ruleId,
      fingerprint: e.fingerprint,
      ...(e.text !== undefined ? { text: e.text } : {}),
      ...(e.message !== undefined ? { message: e.message } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The line of each entry's `"fingerprint"` key (every entry has exactly one), for placing stale-entry findings. */
export function entryLocator(text: string): (entry: number) => { line: number; column: number } {
  const places: { line: number; column: number }[] = [];
  text.split('\n').forEach((line, i) => {
    const pattern = /"fingerprint"\s*:/g;
    let m: RegExpExecArray | null;
    while ((m = pattern.exec(line)) !== null) places.push({ line: i + 1, column: m.index + 1 });
  });
  return (entry) => places[entry] ?? { line: 1, column: 1 };
}
