// The CLI's edges (streams, environment, working directory), passed in so tests
// run the whole CLI in-process.

import { readFileSync } from 'node:fs';

export interface OutStream {
  write(text: string): void;
  readonly isTTY: boolean;
}

export interface CliIO {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Standard input's text; undefined when it is a terminal (nothing piped). */
  readStdin(): string | undefined;
  /** YYYY-MM-DD for suppression expiry; default today (UTC). */
  readonly today?: string;
}

export function processIO(): CliIO {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: { write: (text) => { process.stdout.write(text); }, isTTY: process.stdout.isTTY === true },
    stderr: { write: (text) => { process.stderr.write(text); }, isTTY: process.stderr.isTTY === true },
    readStdin: () => (process.stdin.isTTY ? undefined : readFileSync(0, 'utf8')),
  };
}

/** Exit codes: 0 clean (or below the threshold), 1 findings at or above it, 2 usage, config, input or internal error. */
export const EXIT = { clean: 0, findings: 1, trouble: 2 } as const;

/** A user error: printed as one line (plus hint), exit 2, never a stack trace. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** `DEBUG=dockfw-lint` (or `*`): stack traces for internal errors, and how a run was carried out. */
export function debugging(io: Pick<CliIO, 'env'>): boolean {
  return (io.env.DEBUG ?? '').split(',').some((d) => d.trim() === 'dockfw-lint' || d.trim() === '*');
}
