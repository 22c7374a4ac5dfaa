// The fuzz loop (bundled and started by scripts/fuzz.mjs): the properties of
// test/properties/properties.ts, round-robin, with a random (or given) seed and
// many runs, until the deadline. Each batch runs in a worker thread watched by
// the main thread: a run that hangs or exhausts memory is reported with the
// seed and path that replay it, instead of stalling the whole fuzz.
//
// Output: the seed first, a line per batch, every counterexample (shrunk by
// fast-check) with the command that replays it, and a summary; exit 1 if any
// property failed.

import { randomInt } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { PROPERTIES, propertyNamed, type PropertyOptions } from '../../test/properties/properties.ts';

interface Options {
  readonly minutes: number;
  readonly seed: number;
  readonly only: readonly string[] | undefined;
  readonly knownBugs: boolean;
  readonly large: boolean;
  readonly batch: number;
  /** Seconds without a finished run before a batch counts as hung. */
  readonly hangSeconds: number;
  readonly replay: { readonly seed: number; readonly path: string } | undefined;
}

const USAGE = `usage: npm run fuzz -- [options]
  --minutes N        stop after N minutes (default 5)
  --seed S           base seed (default: random; printed first)
  --only A,B         only these properties (${PROPERTIES.map((p) => p.name).join(', ')})
  --known-bugs       also generate inputs that trigger bugs already reported
  --small            the rulesets of npm test (default: larger ones)
  --batch N          runs per batch (default 200)
  --hang-seconds N   a run taking longer is reported as a hang (default 120)
  --replay SEED:PATH replay one counterexample (with --only NAME) and print it`;

function parseOptions(argv: readonly string[]): Options {
  let minutes = 5;
  let seed = randomInt(0, 2 ** 31 - 1);
  let only: string[] | undefined;
  let knownBugs = false;
  let large = true;
  let batch = 200;
  let hangSeconds = 120;
  let replay: Options['replay'];
  const number = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--minutes') minutes = number(arg, argv[++i]);
    else if (arg === '--seed') seed = Math.trunc(number(arg, argv[++i]));
    else if (arg === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--known-bugs') knownBugs = true;
    else if (arg === '--small') large = false;
    else if (arg === '--batch') batch = Math.max(1, Math.trunc(number(arg, argv[++i])));
    else if (arg === '--hang-seconds') hangSeconds = number(arg, argv[++i]);
    else if (arg === '--replay') {
      const [s, path] = (argv[++i] ?? '').split(':');
      if (s === undefined || path === undefined) throw new Error('--replay takes SEED:PATH');
      replay = { seed: Number(s), path };
    } else if (arg === '--help' || arg === '-h') { console.log(USAGE); process.exit(0); }
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  for (const name of only ?? []) propertyNamed(name);
  if (replay && only?.length !== 1) throw new Error('--replay needs --only with one property');
  return { minutes, seed, only, knownBugs, large, batch, hangSeconds, replay };
}

/** A batch's seed, from the base seed, the batch number and the property (so batches differ). */
function batchSeed(base: number, batch: number, property: string): number {
  let h = (base ^ Math.imul(batch + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < property.length; i++) h = Math.imul(h ^ property.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

// ---------------------------------------------------------------------------
// Worker: runs one batch, counting runs in shared memory for the watchdog.

interface BatchRequest {
  readonly property: string;
  readonly seed: number;
  readonly numRuns: number;
  readonly timeLimitMs: number;
  readonly options: PropertyOptions;
  readonly counter: SharedArrayBuffer;
  readonly path?: string;
}

interface BatchResult {
  readonly numRuns: number;
  readonly numSkips: number;
  readonly failed: boolean;
  readonly interrupted: boolean;
  readonly report?: string;
  readonly error?: string;
  readonly counterexamplePath?: string;
}

async function runBatch(request: BatchRequest): Promise<BatchResult> {
  const counter = new Int32Array(request.counter);
  const property = propertyNamed(request.property).build(request.options, () => { Atomics.add(counter, 0, 1); });
  const details = await fc.check(property, {
    seed: request.seed,
    numRuns: request.numRuns,
    interruptAfterTimeLimit: request.timeLimitMs,
    markInterruptAsFailure: false,
    ...(request.path !== undefined ? { path: request.path, verbose: 1 } : {}),
  });
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance === undefined ? undefined : String(details.errorInstance);
  return {
    numRuns: details.numRuns,
    numSkips: details.numSkips,
    failed: details.failed,
    interrupted: details.interrupted,
    report: details.failed ? fc.defaultReportMessage(details) : undefined,
    error,
    counterexamplePath: details.counterexamplePath ?? undefined,
  };
}

if (!isMainThread) {
  const request = workerData as BatchRequest;
  runBatch(request).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ numRuns: 0, numSkips: 0, failed: true, interrupted: false, error: `the batch threw: ${error instanceof Error ? error.stack : String(error)}` } satisfies BatchResult),
  );
}

// ---------------------------------------------------------------------------
// Main thread: the loop and the watchdog.

type Outcome =
  | { readonly kind: 'done'; readonly result: BatchResult }
  | { readonly kind: 'hang'; readonly run: number }
  | { readonly kind: 'crash'; readonly run: number; readonly error: string };

function startBatch(request: Omit<BatchRequest, 'counter'>, hangSeconds: number): Promise<Outcome> {
  const counter = new SharedArrayBuffer(4);
  const runs = new Int32Array(counter);
  // The worker starts from the same small entry file as this process (DOCKFW_FUZZ_ENTRY, set by
  // scripts/fuzz.mjs), never from the bundle itself: scripts/gen runs its CLI when it is argv[1].
  const entry = process.env.DOCKFW_FUZZ_ENTRY ? new URL(`file://${process.env.DOCKFW_FUZZ_ENTRY}`) : new URL(import.meta.url);
  const worker = new Worker(entry, {
    workerData: { ...request, counter },
    // A run that eats memory kills its worker, not the fuzz.
    resourceLimits: { maxOldGenerationSizeMb: 3072 },
  });
  return new Promise((resolve) => {
    let last = 0;
    let lastChange = Date.now();
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(outcome);
      void worker.terminate();
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(runs, 0);
      if (now !== last) { last = now; lastChange = Date.now(); return; }
      if (Date.now() - lastChange > hangSeconds * 1000) finish({ kind: 'hang', run: Math.max(0, now - 1) });
    }, 1000);
    worker.on('message', (result: BatchResult) => finish({ kind: 'done', result }));
    worker.on('error', (error) => finish({ kind: 'crash', run: Math.max(0, Atomics.load(runs, 0) - 1), error: error.message }));
    worker.on('exit', (code) => finish({ kind: 'crash', run: Math.max(0, Atomics.load(runs, 0) - 1), error: `worker exited with code ${code}` }));
  });
}

function replayCommand(options: Options, property: string, seed: number, path: string | undefined): string {
  const flags = [options.knownBugs ? ' --known-bugs' : '', options.large ? '' : ' --small'].join('');
  return `npm run fuzz -- --only ${property}${flags} --replay ${seed}:${path ?? '0'}`;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const propertyOptions: PropertyOptions = { knownBugs: options.knownBugs, large: options.large };
  const selected = PROPERTIES.filter((p) => !options.only || options.only.includes(p.name));

  if (options.replay) {
    const property = selected[0]!.name;
    const outcome = await startBatch({ property, seed: options.replay.seed, numRuns: 1, timeLimitMs: 10 * 60_000, options: propertyOptions, path: options.replay.path }, options.hangSeconds);
    if (outcome.kind !== 'done') { console.log(`replay of ${property}: ${outcome.kind}${outcome.kind === 'crash' ? ` (${outcome.error})` : ''}`); return 1; }
    console.log(outcome.result.failed ? `${outcome.result.report}\n\n${outcome.result.error ?? ''}` : `replay of ${property} ${options.replay.seed}:${options.replay.path} passes`);
    return outcome.result.failed ? 1 : 0;
  }

  const started = Date.now();
  const deadline = started + options.minutes * 60_000;
  console.log(`dockfw-lint fuzz: seed ${options.seed}, ${options.minutes} min, ${selected.length} properties (${selected.map((p) => p.name).join(', ')})${options.knownBugs ? ', known bugs included' : ''}${options.large ? ', large rulesets' : ''}`);
  console.log(`(replay the whole session: npm run fuzz -- --seed ${options.seed} --minutes ${options.minutes}${options.knownBugs ? ' --known-bugs' : ''}${options.large ? '' : ' --small'})`);
  const counts = new Map(selected.map((p) => [p.name, { runs: 0, skips: 0, batches: 0, failures: 0 }]));
  const failures: string[] = [];
  const failed = new Set<string>();
  for (let batch = 0; Date.now() < deadline; batch++) {
    const active = selected.filter((p) => !failed.has(p.name));
    if (active.length === 0) break;
    for (const p of active) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const seed = batchSeed(options.seed, batch, p.name);
      const t0 = Date.now();
      const outcome = await startBatch({ property: p.name, seed, numRuns: options.batch, timeLimitMs: remaining, options: propertyOptions }, options.hangSeconds);
      const count = counts.get(p.name)!;
      count.batches++;
      if (outcome.kind === 'done') {
        count.runs += outcome.result.numRuns;
        count.skips += outcome.result.numSkips;
        console.log(`batch ${batch} ${p.name}: seed ${seed}, ${outcome.result.numRuns} runs${outcome.result.numSkips ? ` (${outcome.result.numSkips} skipped)` : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s${outcome.result.failed ? ' — FAILED' : ''}`);
        if (outcome.result.failed) {
          count.failures++;
          failed.add(p.name);
          const text = `${p.name} FAILED (batch seed ${seed})\n${outcome.result.report ?? ''}\n\n${outcome.result.error ?? ''}\n\nreplay: ${replayCommand(options, p.name, seed, outcome.result.counterexamplePath)}`;
          failures.push(text);
          console.log(`\n${'='.repeat(78)}\n${text}\n${'='.repeat(78)}\n`);
        }
      } else {
        count.failures++;
        failed.add(p.name);
        const what = outcome.kind === 'hang' ? `a run hung for more than ${options.hangSeconds} s` : `the worker crashed: ${outcome.error}`;
        const text = `${p.name}: ${what} (batch seed ${seed}, run ${outcome.run})\nreplay: ${replayCommand(options, p.name, seed, String(outcome.run))}`;
        failures.push(text);
        console.log(`\n${'='.repeat(78)}\n${text}\n${'='.repeat(78)}\n`);
      }
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\nfuzz summary: seed ${options.seed}, ${minutes} min`);
  for (const [name, c] of counts) console.log(`  ${name.padEnd(22)} ${String(c.runs).padStart(8)} runs  ${String(c.batches).padStart(4)} batches  ${c.skips ? `${c.skips} skipped  ` : ''}${c.failures ? `${c.failures} FAILED` : 'ok'}`);
  const total = [...counts.values()].reduce((a, c) => a + c.runs, 0);
  console.log(`  ${'total'.padEnd(22)} ${String(total).padStart(8)} runs, ${failures.length} failure(s)`);
  return failures.length > 0 ? 1 : 0;
}

if (isMainThread) process.exitCode = await main();
