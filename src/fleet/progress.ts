// The progress bar for long runs: on standard error, only when it is a
// terminal, never in CI (`CI` set), never for machine formats or under
// --quiet, and only once the run has taken a second (most runs finish sooner
// and should print nothing but their report).

import type { OutStream } from '../cli/io.ts';
import type { Severity } from '../engine/types.ts';

export type SeverityCounts = Record<Severity, number>;

export interface ProgressInputs {
  readonly human: boolean;
  readonly quiet: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderrIsTTY: boolean;
}

export function progressWanted({ human, quiet, env, stderrIsTTY }: ProgressInputs): boolean {
  return human && !quiet && stderrIsTTY && env.CI === undefined && env.TERM !== 'dumb';
}

export interface Progress {
  /** `done` of the total files are linted; `counts` findings so far. */
  update(done: number, counts: SeverityCounts): void;
  /** Clears the bar; true when it was ever shown. */
  finish(): boolean;
}

export const NO_PROGRESS: Progress = { update: () => undefined, finish: () => false };

const WIDTH = 28;
const DELAY_MS = 1000;
const INTERVAL_MS = 100;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The bar's text (no control characters): `████░░░░ 412/1000 files · 3 errors, 120 warnings · 4.2 s`. */
export function progressLine(done: number, total: number, counts: SeverityCounts, elapsedMs: number): string {
  const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
  const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
  const found = [plural(counts.error, 'error'), plural(counts.warning, 'warning'), ...(counts.info > 0 ? [plural(counts.info, 'info')] : [])].join(', ');
  return `${bar} ${done}/${plural(total, 'file')} · ${found} · ${(elapsedMs / 1000).toFixed(1)} s`;
}

export function progressBar(stream: OutStream, total: number, now: () => number = () => performance.now()): Progress {
  const started = now();
  let shown = false;
  let lastDrawn = -Infinity;
  return {
    update(done, counts) {
      const t = now();
      if (t - started < DELAY_MS || (t - lastDrawn < INTERVAL_MS && done < total)) return;
      lastDrawn = t;
      shown = true;
      stream.write(`\r${progressLine(done, total, counts, t - started)}\u001b[K`);
    },
    finish() {
      if (shown) stream.write('\r\u001b[K');
      return shown;
    },
  };
}
