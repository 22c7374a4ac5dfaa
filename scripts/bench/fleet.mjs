// Section "fleet": the bundled CLI over 1,000 typical Docker hosts (fleetHost(1…1000):
// 50–500 rules each) with all cores (worker threads, the default) and with --jobs 1,
// alternating the two so machine load drifts hit both alike; median of `--fleet-runs`.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetHost } from '../gen/index.mjs';
import { fmt, summarize, target } from './report.mjs';

const FLEET_HOSTS = 1000;
const FLEET_LIMIT_S = 10;
const RUNS = 3;

/** Writes the fleet into `<cache>/fleet/` (only files whose text changed), returns the folder and its size. */
function writeFleet(cacheDir, log) {
  const dir = join(cacheDir, 'fleet');
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  let rules = 0;
  let written = 0;
  for (let seed = 1; seed <= FLEET_HOSTS; seed++) {
    const text = fleetHost(seed);
    const path = join(dir, `host-${String(seed).padStart(4, '0')}.txt`);
    bytes += Buffer.byteLength(text);
    rules += text.split('\n').filter((line) => line.startsWith('-A ')).length;
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) { writeFileSync(path, text); written++; }
  }
  log(`[fleet] ${FLEET_HOSTS} hosts in ${dir} (${written} written, ${FLEET_HOSTS - written} cached)`);
  return { dir, bytes, rules };
}

/** Wall time and CPU time (user + system, all threads) of one CLI run; output is discarded. */
function timeRun(cli, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: '1', DEBUG: 'dockfw-lint' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('exit', (status) => {
      const ms = performance.now() - started;
      const workers = /linted by the main thread and (\d+) worker threads?/.exec(stderr)?.[1];
      resolve({ ms, status, workers: workers ? Number(workers) : 0, firstLine: stderr.trim().split('\n')[0] ?? '' });
    });
  });
}

export const fleetSection = {
  name: 'fleet',
  title: `Fleet: dist/cli.mjs over ${FLEET_HOSTS.toLocaleString('en-US')} typical Docker hosts, all cores vs --jobs 1`,
  async run({ cli, cacheDir, log, fleetRuns = RUNS }) {
    if (!existsSync(cli)) {
      return {
        columns: [], rows: [], notes: [`skipped: ${cli} does not exist yet (npm run build makes it)`],
        targets: [target(`${FLEET_HOSTS} hosts, all cores (median wall time)`, null, FLEET_LIMIT_S, { unit: 's', reason: 'dist/cli.mjs not built' })],
      };
    }
    const fleet = writeFleet(cacheDir, log);
    const all = [];
    const single = [];
    const statuses = new Map();
    let workers = 0;
    const loads = [loadavg()[0]];
    for (let i = 0; i < fleetRuns; i++) {
      const parallel = await timeRun(cli, [fleet.dir]);
      all.push(parallel.ms);
      workers = parallel.workers;
      statuses.set(parallel.status, parallel.firstLine);
      log(`[fleet] run ${i + 1}/${fleetRuns}: all cores ${fmt.ms(parallel.ms)} (main thread + ${parallel.workers} workers)`);
      const one = await timeRun(cli, ['--jobs', '1', fleet.dir]);
      single.push(one.ms);
      statuses.set(one.status, one.firstLine);
      log(`[fleet] run ${i + 1}/${fleetRuns}: --jobs 1 ${fmt.ms(one.ms)}`);
      loads.push(loadavg()[0]);
    }
    const allTime = summarize(all);
    const singleTime = summarize(single);
    // 1 = findings (the fleet has planted mistakes); anything else means the run did not lint the fleet.
    const healthy = [...statuses.keys()].every((status) => status === 1);
    const notes = [
      `${FLEET_HOSTS} files, ${fmt.int(fleet.rules)} rules, ${fmt.mb(fleet.bytes)}; ${fleetRuns} alternating runs each; text output discarded; CI=1 (no progress bar)`,
      `all cores: the main thread and ${workers} worker thread(s) (os.availableParallelism() = ${availableParallelism()}); --jobs 1 / all cores = ${fmt.ratio(singleTime.median / allTime.median)}`,
      `load average during the runs: ${loads.map((l) => l.toFixed(2)).join(' → ')}`,
    ];
    for (const [status, firstLine] of statuses) if (status !== 1) notes.push(`dist/cli.mjs exited with ${status}: ${firstLine}`);
    const row = (mode, time) => ({ mode, medianMs: time.median, minMs: time.min, maxMs: time.max, perHostMs: time.median / FLEET_HOSTS, hostsPerS: FLEET_HOSTS / (time.median / 1000) });
    return {
      columns: [
        { key: 'mode', label: 'mode' },
        { key: 'medianMs', label: 'median', format: fmt.ms },
        { key: 'minMs', label: 'min', format: fmt.ms },
        { key: 'maxMs', label: 'max', format: fmt.ms },
        { key: 'perHostMs', label: 'per host', format: fmt.ms },
        { key: 'hostsPerS', label: 'hosts/s', format: (v) => v.toFixed(0) },
      ],
      rows: [row(`all cores (main + ${workers} workers)`, allTime), row('--jobs 1', singleTime)],
      notes,
      summary: { workers, allCoresMs: allTime.median, singleMs: singleTime.median, ratio: singleTime.median / allTime.median, loads },
      targets: [
        target(`${FLEET_HOSTS} hosts, all cores (median wall time)`, healthy ? allTime.median / 1000 : null, FLEET_LIMIT_S, {
          unit: 's', reason: `dist/cli.mjs exited with ${[...statuses.keys()].join(', ')}`,
        }),
      ],
    };
  },
};
