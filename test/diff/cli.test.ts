// `dockfw-lint diff` and `dockfw-lint graph` as commands: files and directories,
// formats, exit codes; then the bundled executable dispatching to them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.ts';
import { diffCommand } from '../../src/cli/diff.ts';
import { graphCommand } from '../../src/cli/graph.ts';
import { bundleCli, scratchDir } from '../scratch.ts';
import { REPO_ROOT } from '../corpus-hosts.ts';
import { parseMermaidFlowchart } from '../graph/mermaid-grammar.ts';

const M01 = readFileSync(join(REPO_ROOT, 'corpus/mistakes/m01-input-drop-published-port.txt'), 'utf8');
const RESTRICTED = M01.replace(/^-A DOCKER-USER -j RETURN$/m,
  '-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN\n-A DOCKER-USER -i eth0 -j DROP\n-A DOCKER-USER -j RETURN');
const V4 = readFileSync(join(REPO_ROOT, 'corpus/hardened/docker-28.2-ipv6-pair.v4.txt'), 'utf8');
const V6 = readFileSync(join(REPO_ROOT, 'corpus/hardened/docker-28.2-ipv6-pair.v6.txt'), 'utf8');
const BROKEN = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A NOPE -j DROP\nCOMMIT\n';

const scratch = (files: Record<string, string>) => scratchDir(files, 'dockfw-diff-');

async function cli(command: typeof diffCommand, dir: string, argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    cwd: dir, env: {},
    stdout: { write: (t) => { stdout += t; }, isTTY: false },
    stderr: { write: (t) => { stderr += t; }, isTTY: false },
    readStdin: () => stdin,
  };
  const code = await command(argv, io);
  return { code, stdout, stderr };
}

describe('dockfw-lint diff', () => {
  const dir = scratch({
    'old.txt': RESTRICTED, 'new.txt': M01, 'same.txt': M01, 'broken.txt': BROKEN,
    'before/web.v4.txt': V4, 'before/web.v6.txt': V6, 'before/db.txt': RESTRICTED, 'before/gone.txt': RESTRICTED, 'before/bad.txt': RESTRICTED,
    'after/web.v4.txt': V4, 'after/web.v6.txt': V6.replace(/^-A DOCKER-USER -i eth0 -j DROP\n/m, ''), 'after/db.txt': RESTRICTED, 'after/added.txt': M01, 'after/bad.txt': BROKEN,
    'before/README.md': 'not a snapshot',
  });

  it('two files: exit 1 when reachability widened, with the witness path in text', async () => {
    const r = await cli(diffCommand, dir, ['old.txt', 'new.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('+ ipv4 widened: published tcp 0.0.0.0:8080 → 172.18.0.2:80 on eth0, now also from 0.0.0.0/0 except 198.51.100.0/24');
    expect(r.stdout).toContain('old: drop: dropped by filter DOCKER-USER line 46: -A DOCKER-USER -i eth0 -j DROP');
    expect(r.stdout).toContain('FORWARD filter/DOCKER line 36: -A DOCKER -d 172.18.0.2/32');
    expect(r.stdout).toContain('filter DOCKER-USER: -A DOCKER-USER -i eth0 -j DROP (removed, old line 46)');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('✖ reachability widened: 6 changes widen, 0 narrow (1 host compared)');
  });

  it('exit 0 when nothing changed or reachability only narrowed', async () => {
    const same = await cli(diffCommand, dir, ['new.txt', 'same.txt']);
    expect(same).toMatchObject({ code: 0, stdout: '✔ no change in what is reachable (1 host compared)\n' });
    const narrowed = await cli(diffCommand, dir, ['new.txt', 'old.txt']);
    expect(narrowed.code).toBe(0);
    expect(narrowed.stdout).toContain('- ipv4 narrowed:');
  });

  it('--format json: a versioned document with every change, its witness and both walks', async () => {
    const r = await cli(diffCommand, dir, ['old.txt', 'new.txt', '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ version: 1, widened: true, summary: { hostsCompared: 1, widening: 6, narrowing: 0 } });
    const change = doc.hosts[0].changes[0];
    expect(change).toMatchObject({ kind: 'widened', widens: true, family: 'ipv4', category: 'published', interface: 'eth0', before: ['198.51.100.0/24'], after: ['0.0.0.0/0'] });
    expect(change.old.path.at(-1)).toMatchObject({ chain: 'DOCKER-USER', action: 'drop', line: 46 });
    expect(change.new.verdict).toBe('accept');
    expect(doc.hosts[0].ruleEffects[0]).toMatchObject({ presence: 'removed', rule: '-A DOCKER-USER -i eth0 -j DROP', oldLine: 46 });
  });

  it('--format markdown: a PR comment with a table, collapsible paths and the rules that changed', async () => {
    const r = await cli(diffCommand, dir, ['old.txt', 'new.txt', '-f', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout.startsWith('## ✖ dockfw-lint diff: reachability widened\n')).toBe(true);
    expect(r.stdout).toContain('| 🟠 | widened | ipv4 | published tcp 0.0.0.0:8080 → 172.18.0.2:80 | eth0 | 0.0.0.0/0 except 198.51.100.0/24 | 198.51.100.0/24 | 0.0.0.0/0 |');
    expect(r.stdout).toContain('<details>\n<summary>widened: published tcp 0.0.0.0:8080');
    expect(r.stdout).toContain('```text\nPREROUTING mangle/PREROUTING');
    expect(r.stdout).toContain('| filter DOCKER-USER: `-A DOCKER-USER -i eth0 -j DROP` | removed (old line 46) |');
  });

  it('--format markdown stays within a PR comment: long diffs drop the paths first, then the rule effects, then cut', () => {
    const hosts: Record<string, string> = {};
    for (let i = 0; i < 40; i++) { hosts[`many-old/h${i}.txt`] = RESTRICTED; hosts[`many-new/h${i}.txt`] = M01; }
    const many = scratch(hosts);
    return cli(diffCommand, many, ['many-old', 'many-new', '-f', 'markdown']).then((r) => {
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBeLessThanOrEqual(60_000);
      expect(r.stdout).toContain('> Long diff:');
      expect(r.stdout).not.toContain('<details>');
    });
  });

  it('two directories: hosts paired by name (v4/v6 together), new and gone hosts, unreadable hosts left out with exit 2', async () => {
    const r = await cli(diffCommand, dir, ['before', 'after', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^after\/bad\.txt:4:\d+: error: /m);
    const doc = JSON.parse(r.stdout);
    const byName = Object.fromEntries(doc.hosts.map((h: { name: string }) => [h.name, h]));
    expect(Object.keys(byName).sort()).toEqual(['added.txt', 'db.txt', 'gone.txt', 'web.v4.txt + web.v6.txt']);
    expect(byName['db.txt'].changes).toEqual([]);
    expect(byName['added.txt'].notes).toEqual(['a new host: everything it lets in is new']);
    expect(byName['added.txt'].changes.every((c: { kind: string }) => c.kind === 'newly-reachable')).toBe(true);
    expect(byName['gone.txt'].changes.every((c: { kind: string }) => c.kind === 'no-longer-reachable')).toBe(true);
    const web = byName['web.v4.txt + web.v6.txt'];
    expect(web.oldFiles).toEqual(['before/web.v4.txt', 'before/web.v6.txt']);
    expect(new Set(web.changes.map((c: { family: string }) => c.family))).toEqual(new Set(['ipv6']));
  });

  it('directories without unreadable hosts: exit 1 for the widening', async () => {
    const clean = scratch({ 'a/x.txt': RESTRICTED, 'b/x.txt': M01, 'a/y.txt': M01, 'b/y.txt': M01 });
    const r = await cli(diffCommand, clean, ['a', 'b']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('x.txt');
    expect(r.stdout).not.toMatch(/^y\.txt$/m);
  });

  it('bad input and usage are exit 2 with one line', async () => {
    expect(await cli(diffCommand, dir, ['old.txt', 'after'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dockfw-lint: error: diff compares two files or two directories/) });
    expect(await cli(diffCommand, dir, ['old.txt', 'missing.txt'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing.txt:1:1: error: cannot read the file') });
    expect(await cli(diffCommand, dir, ['old.txt', 'broken.txt'])).toMatchObject({ code: 2 });
    expect((await cli(diffCommand, dir, ['old.txt'])).code).toBe(2);
    expect((await cli(diffCommand, dir, ['old.txt', 'new.txt', '--format', 'sarif'])).code).toBe(2);
    expect((await cli(diffCommand, dir, ['--help'])).code).toBe(0);
  });

  it('reads one side from standard input, and writes to --output-file', async () => {
    const r = await cli(diffCommand, dir, ['-', 'new.txt', '-o', 'report.md', '-f', 'markdown'], RESTRICTED);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('reachability widened');
  });
});

describe('dockfw-lint graph', () => {
  const dir = scratch({ 'm01.txt': M01, 'web.v4.txt': V4, 'web.v6.txt': V6, 'broken.txt': BROKEN });

  it('writes Mermaid by default and DOT on request', async () => {
    const mermaid = await cli(graphCommand, dir, ['m01.txt']);
    expect(mermaid.code).toBe(0);
    expect(parseMermaidFlowchart(mermaid.stdout).edges.length).toBeGreaterThan(5);
    const dot = await cli(graphCommand, dir, ['m01.txt', '--format', 'dot']);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph dockfw_lint \{\n/);
  });

  it('draws a v4/v6 pair as one host, reads stdin, writes -o', async () => {
    expect((await cli(graphCommand, dir, ['web.v4.txt', 'web.v6.txt'])).stdout).toContain('subgraph ipv6_graph');
    expect((await cli(graphCommand, dir, ['-'], M01)).stdout).toContain('v4_chain_filter_DOCKER');
    expect(await cli(graphCommand, dir, ['m01.txt', '-o', 'g.dot', '-f', 'dot'])).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(join(dir, 'g.dot'), 'utf8')).toContain('digraph');
  });

  it('exit 2 for several hosts, unparseable input or an unknown format', async () => {
    expect(await cli(graphCommand, dir, ['m01.txt', 'web.v4.txt'])).toMatchObject({ code: 2, stderr: expect.stringContaining('graph draws one host') });
    expect((await cli(graphCommand, dir, ['broken.txt'])).code).toBe(2);
    expect((await cli(graphCommand, dir, ['m01.txt', '-f', 'png'])).code).toBe(2);
  });
});

describe('the bundled executable dispatches diff and graph', () => {
  let cliPath: string;
  beforeAll(async () => {
    cliPath = await bundleCli();
  });
  const dir = scratch({ 'old.txt': RESTRICTED, 'new.txt': M01 });
  const run = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('diff: real exit codes', () => {
    expect(run(['diff', 'old.txt', 'new.txt']).status).toBe(1);
    expect(run(['diff', 'new.txt', 'old.txt']).status).toBe(0);
    expect(run(['diff', 'new.txt']).status).toBe(2);
    expect(run(['diff', '--help']).stdout).toContain('Usage: dockfw-lint diff');
  });

  it('graph: prints the diagram', () => {
    const r = run(['graph', 'new.txt']);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('flowchart LR\n')).toBe(true);
  });

  it('the other commands still reach the main program', () => {
    expect(run(['new.txt', '--format', 'json']).stdout).toContain('"findings"');
  });
});
