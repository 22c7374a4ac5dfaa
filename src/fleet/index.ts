// Linting many files: slices of whole hosts, linted in worker threads when the
// run is big enough and more than one job is allowed, else in this thread;
// merged in slice order and sorted, so the result does not depend on how many
// workers ran or which finished first (tests compare the bytes).

import { availableParallelism } from 'node:os';
import type { ParseError } from '../../grammar/ast.ts';
import { compareFindings, configSuppressionFindings } from '../engine/engine.ts';
import type { HostInput } from '../engine/host.ts';
import type { Finding, LintRule } from '../engine/types.ts';
import { bundledEntry, runPool } from './pool.ts';
import type { Progress, SeverityCounts } from './progress.ts';
import { chunk, hostGroups, lintSlice, type HostGroup, type SliceResult, type SliceSettings } from './slice.ts';
import { FLEET_WORKER, type WorkerSetup } from './worker.ts';

/** Below this many files, starting workers (~0.1 s each) costs more than it saves. */
export const FLEET_MIN_FILES = 50;
/** Hosts per slice in this thread: how often progress moves and memory is released. */
const LOCAL_SLICE = 16;

export function defaultJobs(): number {
  return availableParallelism();
}

/** How many worker threads a run gets besides this one (`--jobs N`: N threads lint): none for small runs, `--jobs 1`, or from sources. */
export function workersFor(files: number, jobs: number, bundled: boolean): number {
  return jobs > 1 && files > FLEET_MIN_FILES && bundled ? jobs - 1 : 0;
}

export interface FleetRequest {
  readonly inputs: readonly HostInput[];
  readonly rules: readonly LintRule[];
  readonly slice: SliceSettings;
  readonly jobs: number;
  /** For workers, to load the same config and plugins. */
  readonly cwd: string;
  readonly config?: string;
  readonly progress?: Progress;
}

export interface FleetOutcome {
  readonly findings: readonly Finding[];
  /** In input order (the caller sorts them with the read errors). */
  readonly errors: readonly ParseError[];
  readonly suppressed: number;
  /** Files whose hosts were linted completely (read and parsed). */
  readonly linted: ReadonlySet<string>;
  /** Worker threads used besides this one (0: this thread alone). */
  readonly workers: number;
}

function merge(results: readonly SliceResult[], request: FleetRequest, workers: number): FleetOutcome {
  const used: Set<string>[] = (request.slice.lint.suppressions ?? []).map(() => new Set());
  let suppressed = 0;
  let hosts = 0;
  for (const result of results) {
    suppressed += result.suppressed;
    hosts += result.hosts;
    result.configUsed.forEach((ids, i) => { for (const id of ids) used[i]?.add(id); });
  }
  const configFindings = configSuppressionFindings(request.rules, request.slice.ruleConfig, request.slice.lint, used.map((s) => [...s]), hosts > 0);
  const findings = [...results.flatMap((r) => r.findings), ...configFindings].sort(compareFindings);
  return { findings, errors: results.flatMap((r) => r.errors), suppressed, linted: new Set(results.flatMap((r) => r.linted)), workers };
}

export async function lintInputs(request: FleetRequest, entry: URL | undefined = bundledEntry()): Promise<FleetOutcome> {
  const groups = hostGroups(request.inputs);
  const total = request.inputs.length;
  const counts: SeverityCounts = { error: 0, warning: 0, info: 0 };
  let filesDone = 0;
  const progressed = (result: SliceResult) => {
    filesDone += result.files;
    for (const f of result.findings) counts[f.severity]++;
    request.progress?.update(filesDone, counts);
  };
  const workers = Math.min(workersFor(total, request.jobs, entry !== undefined), Math.max(0, groups.length - 1));
  if (workers === 0) {
    const results = chunk(groups, LOCAL_SLICE).map((slice) => {
      const result = lintSlice(slice, request.rules, request.slice);
      progressed(result);
      return result;
    });
    return merge(results, request, 0);
  }
  // Small slices balance the load (and keep the tail short); not so small that messages dominate.
  const size = Math.max(1, Math.min(LOCAL_SLICE, Math.ceil(groups.length / ((workers + 1) * 8))));
  const slices = chunk(groups, size);
  const started = Math.min(workers, slices.length - 1);
  const setup: WorkerSetup = { [FLEET_WORKER]: true, cwd: request.cwd, config: request.config, slice: request.slice };
  const local = (slice: readonly HostGroup[]) => lintSlice(slice, request.rules, request.slice);
  const results = await runPool(entry!, setup, slices, started, local, progressed);
  return merge(results, request, started);
}
