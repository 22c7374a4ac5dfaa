// A fleet worker: the bundled CLI (dist/cli.mjs) started as a worker thread
// with FLEET_WORKER in its workerData. It loads the same config and plugins as
// the main thread, then lints the slices it is sent until told to stop.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadEffectiveConfig } from '../cli/settings.ts';
import { builtinRules } from '../engine/registry.ts';
import type { LintRule } from '../engine/types.ts';
import { lintSlice, type HostGroup, type SliceResult, type SliceSettings } from './slice.ts';

export const FLEET_WORKER = 'dockfwLintFleetWorker';

/** What the main thread hands every worker at start. */
export interface WorkerSetup {
  readonly [FLEET_WORKER]: true;
  /** Working directory and `--config` as the main thread had them: the worker finds the same config and plugins. */
  readonly cwd: string;
  readonly config?: string;
  readonly slice: SliceSettings;
}

export type ToWorker =
  | { readonly type: 'slice'; readonly id: number; readonly groups: readonly HostGroup[] }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'result'; readonly id: number; readonly result: SliceResult }
  | { readonly type: 'failed'; readonly id: number; readonly message: string; readonly stack?: string };

export function isFleetWorker(): boolean {
  return !isMainThread && typeof workerData === 'object' && workerData !== null && (workerData as Record<string, unknown>)[FLEET_WORKER] === true;
}

async function workerRules(setup: WorkerSetup): Promise<readonly LintRule[]> {
  const io = {
    cwd: setup.cwd, env: {}, readStdin: () => undefined,
    stdout: { write: () => undefined, isTTY: false }, stderr: { write: () => undefined, isTTY: false },
  };
  return (await loadEffectiveConfig(io, setup.config, builtinRules)).rules;
}

/** The worker's loop: one result (or failure) per slice, in the order asked. */
export async function runFleetWorker(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const port = parentPort!;
  let rules: readonly LintRule[] | undefined;
  let failure: Error | undefined;
  try {
    rules = await workerRules(setup);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  }
  port.on('message', (message: ToWorker) => {
    if (message.type === 'stop') { port.close(); return; }
    let reply: FromWorker;
    try {
      if (!rules) throw failure ?? new Error('fleet worker has no rules');
      reply = { type: 'result', id: message.id, result: lintSlice(message.groups, rules, setup.slice) };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      reply = { type: 'failed', id: message.id, message: e.message, stack: e.stack };
    }
    port.postMessage(reply);
  });
}
