// Fleets: many files linted by worker threads give exactly the bytes a
// single-thread run gives (every format, parse errors, plugins, config
// suppressions used on one slice and not another), and the progress bar
// appears only where a person watches a long run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetHost } from '../../scripts/gen/index.mjs';
import type { HostInput } from '../../src/engine/host.ts';
import { builtinRules } from '../../src/engine/registry.ts';
import { FLEET_MIN_FILES, lintInputs, workersFor, type FleetRequest } from '../../src/fleet/index.ts';
import { bundledEntry } from '../../src/fleet/pool.ts';
import { progressBar, progressLine, progressWanted } from '../../src/fleet/progress.ts';
import { chunk, hostGroups } from '../../src/fleet/slice.ts';
import { BAD, PLUGIN, cli, type Workspace } from '../cli/harness.ts';
import { bundleCli } from '../scratch.ts';

const HOSTS = 60;
let cliPath: string;
let dir: string;

function write(path: string, text: string): void {
  const full = join(dir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
}

beforeAll(async () => {
  // Same bundling as scripts/build.mjs, into a scratch folder: the worker is this very bundle.
  cliPath = await bundleCli('dockfw-fleet-bundle-');
  dir = mkdtempSync(join(tmpdir(), 'dockfw-fleet-'));
  for (let seed = 1; seed <= HOSTS; seed++) write(`hosts/host-${String(seed).padStart(3, '0')}.txt`, fleetHost(seed));
  // A v4/v6 pair (one host), a file that does not parse, and plugin rules the workers must load too.
  write('hosts/pair/edge.v4.txt', fleetHost(1001));
  write('hosts/pair/edge.v6.txt', '');
  write('hosts/zz-broken.txt', BAD);
  write('plugin/rules.mjs', PLUGIN);
  write('.dockfw-lint.json', JSON.stringify({
    plugins: ['./plugin/rules.mjs'],
    rules: { TST2: 'off', TST3: 'off', TST4: 'off', TST5: 'off' },
    suppressions: [
      // Used only by the last hosts (another slice than the first): must not be reported unused.
      { rule: 'DFW106', file: 'hosts/host-06*.txt', reason: 'public edge' },
      { rule: 'DFW111', file: 'hosts/host-001.txt', reason: 'never fires there' },
      { rule: 'IPT204', reason: 'old', expires: '2001-01-01' },
    ],
  }, null, 2));
}, 120_000);

function run(args: string[]) {
  const env = { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, DEBUG: 'dockfw-lint', CI: undefined, DOCKFW_LINT_FORMAT: undefined, DOCKFW_LINT_FAILURE_THRESHOLD: undefined };
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8', env, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('worker threads give the bytes of a single-thread run', () => {
  // JSON carries every field of every finding and error; text is what people read. (SARIF is rendered from the same report.)
  for (const format of ['text', 'json']) {
    it(format, () => {
      const single = run(['--format', format, '--jobs', '1', 'hosts']);
      const fleet = run(['--format', format, '--jobs', '3', 'hosts']);
      const files = HOSTS + 3;
      expect(single.stderr).toContain(`dockfw-lint: debug: ${files} files linted in the main thread\n`);
      expect(fleet.stderr).toContain(`dockfw-lint: debug: ${files} files linted by the main thread and 2 worker threads\n`);
      expect(fleet.code).toBe(2);
      expect(single.code).toBe(2);
      expect(fleet.stdout.length).toBeGreaterThan(10_000);
      expect(fleet.stdout).toBe(single.stdout);
      // Whether the code cache was there yet (its DEBUG line) is no part of the run's result.
      const withoutCacheLine = (stderr: string) => stderr.replace(/^dockfw-lint: code cache .*\n/m, '');
      expect(withoutCacheLine(fleet.stderr.replace(/ by the main thread and 2 worker threads/, ' in the main thread'))).toBe(withoutCacheLine(single.stderr));
      if (format === 'text') {
        expect(single.stdout).toContain('DFW003');
        expect(single.stdout).toContain('unused suppression of DFW111');
        expect(single.stdout).not.toContain('unused suppression of DFW106');
        expect(single.stdout).toMatch(/✖ \d+ problems \(\d+ errors?, \d+ warnings?(, \d+ infos?)?\) in \d+ of 63 files · 1 file could not be checked \(\d+ errors?\) · \d+ suppressed\n$/);
      }
    });
  }

  it('with a baseline: written by workers, applied by a single thread', () => {
    expect(run(['--jobs', '2', '--write-baseline', 'baseline.json', 'hosts']).code).toBe(2);
    const single = run(['--format', 'json', '--jobs', '1', '--baseline', 'baseline.json', 'hosts']);
    const fleet = run(['--format', 'json', '--jobs', '2', '--baseline', 'baseline.json', 'hosts']);
    expect(fleet.stdout).toBe(single.stdout);
    const doc = JSON.parse(single.stdout);
    expect(doc.summary.baselined).toBeGreaterThan(100);
    expect(doc.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual([]);
  });

  it('a worker that fails stops the run with an internal error (exit 2), never a hang', () => {
    write('bad-plugin.mjs', "import { isMainThread } from 'node:worker_threads';\nif (!isMainThread) throw new Error('no plugins in threads today');\nexport const rules = [];\n");
    write('bad-config.json', JSON.stringify({ plugins: ['./bad-plugin.mjs'] }));
    const r = run(['--config', 'bad-config.json', '--jobs', '2', 'hosts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dockfw-lint: internal error: .*no plugins in threads today/m);
    expect(r.stdout).toBe('');
  });

  it('lintInputs merges worker results into what the main thread computes', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const inputs: HostInput[] = readdirSync(join(dir, 'hosts')).filter((f) => f.endsWith('.txt')).sort().slice(0, 55)
      .map((f) => ({ file: `hosts/${f}`, text: readFileSync(join(dir, 'hosts', f), 'utf8') }));
    const request: FleetRequest = {
      inputs, rules: builtinRules, jobs: 3, cwd: tmpdir(),
      slice: { settings: { externalInterfaces: [], localAddresses: [], intendedPublicPorts: [] }, ruleConfig: {}, lint: { today: '2030-01-01' } },
    };
    const local = await lintInputs(request, undefined);
    const threaded = await lintInputs(request, pathToFileURL(cliPath));
    expect(local.workers).toBe(0);
    expect(threaded.workers).toBe(2);
    expect(threaded.findings).toEqual(local.findings);
    expect(threaded.errors).toEqual(local.errors);
    expect(threaded.suppressed).toBe(local.suppressed);
    expect([...threaded.linted]).toEqual([...local.linted]);
  });
});

describe('when workers are used', () => {
  it(`only for more than ${FLEET_MIN_FILES} files, more than one job, and from the bundle`, () => {
    expect(workersFor(FLEET_MIN_FILES + 1, 2, true)).toBe(1);
    expect(workersFor(FLEET_MIN_FILES + 1, 4, true)).toBe(3);
    expect(workersFor(FLEET_MIN_FILES, 2, true)).toBe(0);
    expect(workersFor(1000, 1, true)).toBe(0);
    expect(workersFor(1000, 8, false)).toBe(0);
    expect(bundledEntry('file:///usr/lib/node_modules/dockfw-lint/dist/cli.mjs')?.pathname).toBe('/usr/lib/node_modules/dockfw-lint/dist/cli.mjs');
    expect(bundledEntry('file:///work/src/fleet/pool.ts')).toBeUndefined();
  });

  it('slices never split a v4/v6 pair', () => {
    const inputs = ['a.v4.txt', 'a.v6.txt', 'b.txt', 'c.ipv4', 'c.ipv6', 'd.v4.txt'].map((file) => ({ file, text: '' }));
    const groups = hostGroups(inputs);
    expect(groups.map((g) => g.map((i) => i.file))).toEqual([['a.v4.txt', 'a.v6.txt'], ['b.txt'], ['c.ipv4', 'c.ipv6'], ['d.v4.txt']]);
    expect(chunk(groups, 3).map((c) => c.length)).toEqual([3, 1]);
  });

  it('--jobs takes a whole number, 1 or more', async () => {
    const ws: Workspace = { dir: tmpdir(), write: () => '' };
    for (const bad of ['0', '-1', '1.5', 'many']) {
      const r = await cli(ws, ['--jobs', bad, '--list-rules']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("option '--jobs <n>' argument");
    }
    expect((await cli(ws, ['--jobs', '4', '--list-rules'])).code).toBe(0);
  });
});

describe('the progress bar', () => {
  const env = {};
  it('is wanted only on a terminal, outside CI, for human output, not under --quiet', () => {
    expect(progressWanted({ human: true, quiet: false, env, stderrIsTTY: true })).toBe(true);
    expect(progressWanted({ human: true, quiet: false, env, stderrIsTTY: false })).toBe(false);
    expect(progressWanted({ human: true, quiet: false, env: { CI: 'true' }, stderrIsTTY: true })).toBe(false);
    expect(progressWanted({ human: true, quiet: false, env: { CI: '' }, stderrIsTTY: true })).toBe(false);
    expect(progressWanted({ human: true, quiet: false, env: { TERM: 'dumb' }, stderrIsTTY: true })).toBe(false);
    expect(progressWanted({ human: false, quiet: false, env, stderrIsTTY: true })).toBe(false);
    expect(progressWanted({ human: true, quiet: true, env, stderrIsTTY: true })).toBe(false);
  });

  it('shows nothing during the first second, then at most ten times a second, and clears itself', () => {
    let now = 0;
    let out = '';
    const bar = progressBar({ write: (t) => { out += t; }, isTTY: true }, 1000, () => now);
    const counts = { error: 2, warning: 40, info: 0 };
    now = 900;
    bar.update(100, counts);
    expect(out).toBe('');
    now = 1200;
    bar.update(200, counts);
    expect(out).toBe(`\r${progressLine(200, 1000, counts, 1200)}\u001b[K`);
    now = 1250;
    bar.update(210, counts);
    expect(out.split('\r')).toHaveLength(2);
    now = 1260;
    bar.update(1000, { ...counts, info: 1 });
    expect(out.split('\r')).toHaveLength(3);
    expect(bar.finish()).toBe(true);
    expect(out.endsWith('\r\u001b[K')).toBe(true);
    expect(progressBar({ write: () => { throw new Error('never'); }, isTTY: true }, 5, () => 0).finish()).toBe(false);
  });

  it('reads as a bar, files and findings per severity', () => {
    expect(progressLine(250, 1000, { error: 1, warning: 12, info: 0 }, 3456)).toBe(`${'█'.repeat(7)}${'░'.repeat(21)} 250/1000 files · 1 error, 12 warnings · 3.5 s`);
    expect(progressLine(1, 1, { error: 0, warning: 0, info: 3 }, 100)).toBe(`${'█'.repeat(28)} 1/1 file · 0 errors, 0 warnings, 3 infos · 0.1 s`);
  });

  it('appears on a terminal during a long run and ends with the summary; never in CI or machine formats', async () => {
    const { run: runCli } = await import('../../src/cli/program.ts');
    const lint = async (args: string[], env: Record<string, string>) => {
      let stdout = '';
      let stderr = '';
      await runCli(['--jobs', '1', ...args, 'hosts'], {
        cwd: dir, env, readStdin: () => undefined, today: '2030-06-15',
        stdout: { write: (t) => { stdout += t; }, isTTY: false }, stderr: { write: (t) => { stderr += t; }, isTTY: true },
      });
      return { stdout, stderr };
    };
    const human = await lint([], { NO_COLOR: '1' });
    // The bar, cleared; the parse errors; then (the report went to a pipe, not to this terminal) the report's summary line.
    const summary = human.stdout.trimEnd().split('\n').at(-1)!;
    expect(summary).toMatch(/^✖ \d+ problems \(\d+ errors, \d+ warnings/);
    expect(human.stderr).toMatch(/\r█+░* \d+\/63 files · \d+ errors?, \d+ warnings?(, \d+ infos?)? · \d+\.\d s\u001b\[K/);
    expect(human.stderr).toMatch(/\u001b\[K\r\u001b\[Khosts\/zz-broken\.txt:4:4: error: /);
    expect(human.stderr.endsWith(`\n${summary}\n`)).toBe(true);
    expect((await lint([], { CI: 'true' })).stderr).not.toContain('█');
    expect((await lint(['--format', 'sarif'], {})).stderr).not.toContain('█');
    expect((await lint(['--quiet'], {})).stderr).not.toContain('█');
  }, 120_000);
});
