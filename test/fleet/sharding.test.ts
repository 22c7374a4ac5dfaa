// The README's CI-matrix example, run for real: its shard script splits the
// corpus into shares that cover every host once and keep v4/v6 pairs
// together, and its jq merge of the shards' SARIF is valid SARIF holding
// exactly the results of one run over every host.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { familyMarker } from '../../src/engine/host.ts';
import { cli, type Workspace } from '../cli/harness.ts';
import { expectValidSarif } from '../report/validators.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const SHARDS = 4;
const hasTools = spawnSync('jq', ['--version']).status === 0 && spawnSync('bash', ['--version']).status === 0;

/** The `run: |` script of the workflow step named `name`, as a shell would get it. */
function stepScript(name: string): string {
  const lines = README.split('\n');
  const at = lines.findIndex((l) => l.trim() === `- name: ${name}`);
  expect(at, `README step "${name}"`).toBeGreaterThan(0);
  const run = lines.findIndex((l, i) => i > at && l.trim() === 'run: |');
  const indent = lines[run]!.search(/\S/);
  const body: string[] = [];
  for (const line of lines.slice(run + 1)) {
    if (line.trim() !== '' && line.search(/\S/) <= indent) break;
    body.push(line.slice(indent + 2));
  }
  return body.join('\n');
}

let ws: Workspace;
let files: string[];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'dockfw-shards-'));
  for (const folder of ['docker-layouts', 'mistakes', 'hardened']) {
    cpSync(new URL(`../../corpus/${folder}/`, import.meta.url), join(dir, 'hosts', folder), { recursive: true, filter: (src) => !src.endsWith('.json') });
  }
  ws = { dir, write: () => '' };
  files = readdirSync(join(dir, 'hosts'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
});

describe.skipIf(!hasTools)("the README's CI matrix", () => {
  it('shards cover every host once and keep pairs together; the merged SARIF is one run over all hosts', async () => {
    const pick = stepScript("This shard's hosts");
    const shards: string[][] = [];
    for (let shard = 0; shard < SHARDS; shard++) {
      execFileSync('bash', ['-euo', 'pipefail', '-c', pick], { cwd: ws.dir, env: { ...process.env, SHARDS: String(SHARDS), SHARD: String(shard) }, stdio: 'pipe' });
      shards.push(readFileSync(join(ws.dir, 'shard.txt'), 'utf8').split('\n').filter(Boolean));
    }
    expect(shards.flat().sort()).toEqual(files);
    expect(shards.filter((s) => s.length > 0).length).toBeGreaterThan(1);
    const shardOf = new Map(shards.flatMap((s, i) => s.map((f) => [f, i] as const)));
    const pairs = files.filter((f) => familyMarker(f)?.family === 'ipv6');
    expect(pairs.length).toBeGreaterThan(2);
    for (const v6 of pairs) {
      const v4 = files.find((f) => f !== v6 && familyMarker(f)?.key === familyMarker(v6)!.key)!;
      expect(shardOf.get(v4), `${v4} and ${v6}`).toBe(shardOf.get(v6));
    }

    for (const [i, shard] of shards.entries()) {
      if (shard.length > 0) await cli(ws, ['--format', 'sarif', '-o', `shard-${i}.sarif`, ...shard]);
    }
    execFileSync('bash', ['-euo', 'pipefail', '-c', stepScript('Merge the shards into one SARIF run')], { cwd: ws.dir, stdio: 'pipe' });
    const merged = readFileSync(join(ws.dir, 'dockfw-lint.sarif'), 'utf8');
    expectValidSarif(merged);
    const whole = JSON.parse((await cli(ws, ['--format', 'sarif', 'hosts'])).stdout);
    const run = JSON.parse(merged).runs[0];
    const key = (r: unknown) => JSON.stringify(r);
    expect(run.results.length).toBeGreaterThan(50);
    expect(run.results.map(key).sort()).toEqual(whole.runs[0].results.map(key).sort());
    expect(run.tool).toEqual(whole.runs[0].tool);
    expect(run.invocations).toEqual(whole.runs[0].invocations);
  });
});
