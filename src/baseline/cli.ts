// `--baseline FILE` and `--write-baseline FILE` for the lint command: reading
// and writing the file (the CLI's edge), then applying it to the findings.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { CliIO } from '../cli/io.ts';
import { UsageError } from '../cli/io.ts';
import { ConfigFailure } from '../cli/settings.ts';
import { STDIN_NAME } from '../cli/inputs.ts';
import type { RuleConfig } from '../engine/engine.ts';
import { compareFindings } from '../engine/engine.ts';
import type { HostInput } from '../engine/host.ts';
import type { Finding } from '../engine/types.ts';
import { applyBaseline, baselineEntries, staleEntryFindings, type BaselineScope } from './apply.ts';
import { type Baseline, type BaselineEntry, parseBaseline, renderBaseline } from './format.ts';
import { SourceLines } from './source-lines.ts';

export interface LoadedBaseline {
  /** As shown in diagnostics: relative to the working directory. */
  readonly display: string;
  readonly text: string;
  readonly baseline: Baseline;
}

function display(io: CliIO, path: string): string {
  const rel = relative(io.cwd, resolve(io.cwd, path)) || path;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** Reads and validates a baseline; `undefined` when it does not exist and `missingOk`. Throws ConfigFailure (exit 2). */
export function loadBaseline(io: CliIO, path: string, missingOk = false): LoadedBaseline | undefined {
  const shown = display(io, path);
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    throw new ConfigFailure({
      file: shown,
      message: code === 'ENOENT' ? 'baseline file not found' : `cannot read the baseline file (${code ?? String(error)})`,
      hint: 'write one with `dockfw-lint --write-baseline FILE …`',
    });
  }
  const parsed = parseBaseline(text, shown);
  if (!parsed.ok) throw new ConfigFailure(parsed.problem);
  return { display: shown, text, baseline: parsed.value };
}

export interface BaselineRequest {
  /** `--baseline FILE`, already loaded. */
  readonly baseline?: LoadedBaseline;
  /** `--write-baseline FILE`. */
  readonly write?: string;
  readonly inputs: readonly HostInput[];
  /** Files linted completely (read and parsed). */
  readonly checked: ReadonlySet<string>;
  readonly ran: ReadonlySet<string>;
  readonly known: ReadonlySet<string>;
  readonly ruleConfig: RuleConfig;
  readonly quiet: boolean;
}

export interface BaselineResult {
  readonly findings: readonly Finding[];
  readonly baselined: number;
  /** Entries written by `--write-baseline`. */
  readonly written?: number;
}

/**
 * With `--write-baseline FILE`: writes the current findings (keeping reasons,
 * and the entries of files not linted this run) and reports as if that
 * baseline had been given. With `--baseline FILE`: hides the findings it
 * accepts and reports its stale entries (DFW005).
 */
export function settleBaseline(io: CliIO, findings: readonly Finding[], request: BaselineRequest): BaselineResult {
  const scope: BaselineScope = {
    checked: request.checked,
    ran: request.ran,
    known: request.known,
    exists: (file) => file === STDIN_NAME || existsSync(resolve(io.cwd, file)),
  };
  let active = request.baseline;
  let written: number | undefined;
  if (request.write !== undefined) {
    // Refuse to overwrite a file that is not a baseline (a typo could name package.json).
    const previous = loadBaseline(io, request.write, true);
    const carried: BaselineEntry[] = [...(request.baseline?.baseline.entries ?? []), ...(previous?.baseline.entries ?? [])];
    const sources = new SourceLines(new Map(request.inputs.map((i) => [i.file, i.text])));
    const entries = baselineEntries(findings, sources, carried, scope);
    const text = renderBaseline(entries);
    try {
      writeFileSync(resolve(io.cwd, request.write), text);
    } catch (error) {
      throw new UsageError(`cannot write ${request.write}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const parsed = parseBaseline(text, display(io, request.write));
    if (!parsed.ok) throw new Error(`the baseline just written does not validate: ${parsed.problem.message}`);
    written = parsed.value.entries.length;
    active = { display: display(io, request.write), text, baseline: parsed.value };
  }
  if (!active) return { findings, baselined: 0 };
  const applied = applyBaseline(findings, active.baseline, scope);
  const stale = staleEntryFindings(applied.stale, active.display, active.text, request.ruleConfig, request.quiet);
  return { findings: [...applied.findings, ...stale].sort(compareFindings), baselined: applied.baselined, ...(written !== undefined ? { written } : {}) };
}
