// Worker threads over slices: each worker is the bundled CLI started with
// FLEET_WORKER in its workerData; slices are handed out as workers finish
// (host sizes vary tenfold, so a fixed split would leave a core idle), and
// results are kept by slice number, so the merge does not depend on timing.

import { Worker } from 'node:worker_threads';
import type { HostGroup, SliceResult } from './slice.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './worker.ts';

/** A worker failed (a bug): the run stops with an internal error, as an in-thread crash would. */
export class FleetWorkerError extends Error {
  constructor(message: string, workerStack?: string) {
    super(message);
    // DEBUG=dockfw-lint prints the stack: the worker's is the one that says where.
    if (workerStack) this.stack = workerStack;
  }
}

/**
 * The file a worker runs: this very module's file when it is the bundle
 * (dist/cli.mjs); undefined when running from TypeScript sources (tests),
 * where Node could not load it in a thread: those runs stay in the main thread.
 */
export function bundledEntry(moduleUrl: string = import.meta.url): URL | undefined {
  const url = new URL(moduleUrl);
  return url.protocol === 'file:' && /\.m?js$/.test(url.pathname) ? url : undefined;
}

/** Slices in flight per worker: the next is already there when one finishes, even while this thread is busy with its own. */
const IN_FLIGHT = 3;

/**
 * Lints `slices` with `workers` worker threads and, between messages, this
 * thread too (`local`): it is idle otherwise, and a thread that is already
 * warm saves a worker's start-up and JIT warm-up (a second or two of CPU).
 * Resolves to the results in slice order.
 */
export function runPool(
  entry: URL, setup: WorkerSetup, slices: readonly (readonly HostGroup[])[], workers: number,
  local: (slice: readonly HostGroup[]) => SliceResult, onResult: (result: SliceResult) => void,
): Promise<SliceResult[]> {
  return new Promise((resolve, reject) => {
    const results: SliceResult[] = new Array(slices.length);
    const pool: Worker[] = [];
    let next = 0;
    let done = 0;
    let settled = false;
    const send = (worker: Worker, message: ToWorker) => worker.postMessage(message);
    const feed = (worker: Worker) => {
      if (next >= slices.length) return;
      const id = next++;
      send(worker, { type: 'slice', id, groups: slices[id]! });
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      for (const worker of pool) void worker.terminate();
      reject(error);
    };
    const complete = (id: number, result: SliceResult) => {
      results[id] = result;
      done++;
      onResult(result);
      if (done < slices.length) return;
      settled = true;
      for (const w of pool) send(w, { type: 'stop' });
      resolve(results);
    };
    // This thread takes a slice whenever it is free; setImmediate lets the workers' messages in between.
    const runLocal = () => {
      if (settled || next >= slices.length) return;
      const id = next++;
      let result: SliceResult;
      try {
        result = local(slices[id]!);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      complete(id, result);
      setImmediate(runLocal);
    };
    if (slices.length === 0) { resolve(results); return; }
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(entry, { workerData: setup });
      pool.push(worker);
      worker.on('message', (message: FromWorker) => {
        if (settled) return;
        if (message.type === 'failed') { fail(new FleetWorkerError(message.message, message.stack)); return; }
        complete(message.id, message.result);
        if (!settled) feed(worker);
      });
      worker.on('error', (error) => fail(error instanceof Error ? error : new Error(String(error))));
      worker.on('exit', (code) => fail(new FleetWorkerError(`a fleet worker stopped (exit code ${code}) before the run finished`)));
      for (let k = 0; k < IN_FLIGHT; k++) feed(worker);
    }
    setImmediate(runLocal);
  });
}
