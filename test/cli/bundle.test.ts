// The bundled executable as users run it: a real process, real streams, real exit codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../scratch.ts';
import { BAD, CLEAN, DROPS, workspace, type Workspace } from './harness.ts';

let cliPath: string;
let ws: Workspace;
/** The code cache of these runs: their own, not the one dist/cli.mjs uses. */
let codeCache: string;

beforeAll(async () => {
  // Same bundling as scripts/build.mjs, into a scratch folder (dist/ belongs to `npm run build`).
  cliPath = await bundleCli('dockfw-bundle-');
  codeCache = mkdtempSync(join(tmpdir(), 'dockfw-code-cache-'));
  process.once('exit', () => rmSync(codeCache, { recursive: true, force: true }));
  ws = workspace();
  ws.write('clean.txt', CLEAN);
  ws.write('drops.txt', DROPS);
  ws.write('bad.txt', BAD);
});

function run(args: string[], input?: string, cache: string = codeCache, cwd: string = ws.dir, debug?: string) {
  const env = {
    ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, DEBUG: debug, DOCKFW_LINT_FORMAT: undefined, DOCKFW_LINT_FAILURE_THRESHOLD: undefined,
    DOCKFW_LINT_CODE_CACHE: cache,
  };
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, input: input ?? '', encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled CLI', () => {
  it('exits 0 on a clean file, 1 on findings, 2 on bad input and usage errors', () => {
    expect(run(['clean.txt']).code).toBe(0);
    expect(run(['drops.txt']).code).toBe(1);
    expect(run(['bad.txt']).code).toBe(2);
    expect(run(['--no-such-flag']).code).toBe(2);
  });

  it('prints parse errors without a stack trace', () => {
    const r = run(['bad.txt']);
    expect(r.stderr).toMatch(/^bad\.txt:4:4: error: /m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('reads standard input', () => {
    const r = run(['--format', 'json'], DROPS);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).findings[0].file).toBe('<stdin>');
  });

  it('machine formats put only the document on stdout', () => {
    for (const format of ['json', 'sarif']) expect(() => JSON.parse(run(['drops.txt', 'bad.txt', '--format', format]).stdout)).not.toThrow();
  });

  it('validates rule options with ajv, which stays out of the bundle and loads from node_modules', () => {
    ws.write('.dockfw-lint.json', JSON.stringify({ rules: { DFW111: ['error', { trustedSources: ['198.51.100.0/24'] }] } }));
    expect(run(['clean.txt']).code).toBe(0);
    ws.write('.dockfw-lint.json', JSON.stringify({ rules: { DFW111: ['error', { trustedSource: ['198.51.100.0/24'] }] } }));
    const bad = run(['clean.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option "trustedSource"');
    ws.write('.dockfw-lint.json', '{}');
  });

  describe('code cache', () => {
    const cacheFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.v8'));

    it('is written by the first run and used by the next, which print the same, plugins included', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockfw-code-cache-'));
      // A workspace of its own: its config loads the test plugin with import().
      const own = workspace();
      own.write('drops.txt', DROPS);
      try {
        const first = run(['drops.txt', '--format', 'json'], undefined, dir, own.dir, 'dockfw-lint');
        expect(first.stderr).toContain('dockfw-lint: code cache none yet');
        expect(cacheFiles(dir)).toHaveLength(1);
        expect(cacheFiles(dir)[0]).toMatch(new RegExp(`^cli-[0-9a-f]{16}-${process.version}-${process.arch}\\.v8$`));
        const second = run(['drops.txt', '--format', 'json'], undefined, dir, own.dir, 'dockfw-lint');
        expect(second.stderr).toContain('dockfw-lint: code cache used');
        expect(second.stdout).toBe(first.stdout);
        expect(second.code).toBe(first.code);
        expect(first.code).toBe(1);
        // The plugin's rules ran from the cache too.
        expect(JSON.parse(second.stdout).findings.map((f: { ruleId: string }) => f.ruleId)).toContain('TST1');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('survives a corrupt cache file, and replaces it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockfw-code-cache-'));
      try {
        run(['clean.txt'], undefined, dir);
        const cache = join(dir, cacheFiles(dir)[0]!);
        writeFileSync(cache, 'not a code cache');
        const corrupt = run(['clean.txt'], undefined, dir, ws.dir, 'dockfw-lint');
        expect(corrupt.code).toBe(0);
        expect(corrupt.stderr).toContain('dockfw-lint: code cache rejected');
        expect(readFileSync(cache).length).toBeGreaterThan(1000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('cannot be written where no directory can be made: the run goes on, and never hangs', () => {
      // Node 20's recursive mkdirSync never returns under /proc; the loader makes one level at a time.
      const place = existsSync('/proc/self') ? '/proc/dockfw-lint-no-such-dir/cache' : join(ws.dir, 'clean.txt', 'cache');
      const r = run(['clean.txt'], undefined, place, ws.dir, 'dockfw-lint');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('dockfw-lint: code cache none yet');
    });

    it('is neither read nor written with DOCKFW_LINT_CODE_CACHE=off', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockfw-code-cache-'));
      try {
        expect(run(['clean.txt'], undefined, 'off').code).toBe(0);
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
