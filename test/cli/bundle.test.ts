// The bundled executable as users run it: a real process, real streams, real exit codes.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../scratch.ts';
import { BAD, CLEAN, DROPS, workspace, type Workspace } from './harness.ts';

let cliPath: string;
let ws: Workspace;

beforeAll(async () => {
  // Same bundling as scripts/build.mjs, into a scratch folder (dist/ belongs to `npm run build`).
  cliPath = await bundleCli('dockfw-bundle-');
  ws = workspace();
  ws.write('clean.txt', CLEAN);
  ws.write('drops.txt', DROPS);
  ws.write('bad.txt', BAD);
});

function run(args: string[], input?: string) {
  const env = { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, DEBUG: undefined, DOCKFW_LINT_FORMAT: undefined, DOCKFW_LINT_FAILURE_THRESHOLD: undefined };
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: ws.dir, input: input ?? '', encoding: 'utf8', env });
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
});
