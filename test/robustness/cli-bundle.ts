// The CLI as users run it: bundled exactly as scripts/build.mjs bundles dist/cli.mjs, but
// into a scratch folder (see test/scratch.ts), and run as child processes with a
// controlled environment.
import { spawn } from 'node:child_process';
import { bundleCli as bundleScratchCli } from '../scratch.ts';

let bundled: Promise<string> | undefined;

/** The path of the bundled CLI (built once per test worker). */
export function bundleCli(): Promise<string> {
  bundled ??= bundleScratchCli('dockfw-robustness-cli-');
  return bundled;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Variables that change what the CLI prints; a run starts from none of them. */
const CONTROLLED = ['LC_ALL', 'LC_COLLATE', 'LC_CTYPE', 'LC_MESSAGES', 'LC_NUMERIC', 'LC_TIME', 'LANG', 'LANGUAGE', 'TZ', 'NO_COLOR', 'FORCE_COLOR', 'DEBUG', 'DOCKFW_LINT_FORMAT', 'DOCKFW_LINT_FAILURE_THRESHOLD', 'UV_THREADPOOL_SIZE'];

export function runCli(cli: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONTROLLED.includes(k)) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: options.cwd, env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs jobs two at a time (the machine has two cores). */
export async function inPairs<T>(jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]!();
  };
  await Promise.all([worker(), worker()]);
  return results;
}
