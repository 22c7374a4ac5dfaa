import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectValidJson, expectValidSarif, expectWellFormedXml } from '../report/validators.ts';
import { BAD, CLEAN, cli, DROPS, WARNS, workspace, type Workspace } from './harness.ts';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  ws.write('clean.txt', CLEAN);
  ws.write('drops.txt', DROPS);
  ws.write('warns.txt', WARNS);
  ws.write('bad.txt', BAD);
});

describe('exit codes', () => {
  it.each([
    ['clean file', ['clean.txt'], 0],
    ['error finding', ['drops.txt'], 1],
    ['warning below the default threshold (error)', ['warns.txt'], 0],
    ['warning at --failure-threshold warning', ['warns.txt', '--failure-threshold', 'warning'], 1],
    ['error finding with --failure-threshold none', ['drops.txt', '--failure-threshold', 'none'], 0],
    ['--quiet drops warnings before the threshold sees them', ['warns.txt', '--quiet', '--failure-threshold', 'warning'], 0],
    ['parse error', ['bad.txt'], 2],
    ['parse error beats findings', ['bad.txt', 'drops.txt'], 2],
    ['missing file', ['nope.txt'], 2],
    ['unknown flag', ['clean.txt', '--bogus'], 2],
    ['bad --format', ['clean.txt', '--format', 'xml'], 2],
    ['bad --failure-threshold', ['clean.txt', '--failure-threshold', 'fatal'], 2],
    ['missing --config file', ['clean.txt', '--config', 'nope.json'], 2],
    ['--help', ['--help'], 0],
    ['--version', ['--version'], 0],
    ['--list-rules', ['--list-rules'], 0],
    ['--explain a known rule', ['--explain', 'DFW001'], 0],
    ['--explain an unknown rule', ['--explain', 'NOPE9'], 2],
  ])('%s → %i', async (_, argv, expected) => {
    expect((await cli(ws, argv as string[])).code).toBe(expected);
  });

  it('no paths and nothing piped is a usage error', async () => {
    const r = await cli(ws, [], { stdin: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dockfw-lint: error: no input/);
  });

  it('the failure threshold comes from the config unless the flag says otherwise', async () => {
    const strict = workspace({ failureThreshold: 'warning' });
    strict.write('warns.txt', WARNS);
    expect((await cli(strict, ['warns.txt'])).code).toBe(1);
    expect((await cli(strict, ['warns.txt', '--failure-threshold', 'error'])).code).toBe(0);
    expect((await cli(strict, ['warns.txt'], { env: { DOCKFW_LINT_FAILURE_THRESHOLD: 'none' } })).code).toBe(0);
  });
});

describe('bad input', () => {
  it('prints every parse error as file:line:column with found/expected and a hint, no stack, and still lints the other files', async () => {
    const r = await cli(ws, ['bad.txt', 'drops.txt']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('bad.txt:'))).toEqual([
      expect.stringMatching(/^bad\.txt:4:4: error: chain "NOPE" does not exist in table filter \(found NOPE\)$/),
      expect.stringMatching(/^bad\.txt:6:1: error: unknown table "bogus" \(found bogus, expected one of raw, mangle, nat, filter, security\)$/),
    ]);
    expect(r.stderr).toMatch(/\n {2}hint: /);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(r.stdout).toContain('drops.txt\n');
    expect(r.stdout).toContain('drop in INPUT');
    expect(r.stdout).toMatch(/✖ 2 problems \(2 errors, 0 warnings\) in 1 of 2 files · 1 file could not be checked \(2 errors\)/);
  });

  it('an unreadable path is reported and the rest still checked', async () => {
    const r = await cli(ws, ['nope.txt', 'clean.txt', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nope.txt:1:1: error: cannot read the file: no such file or directory\n');
    const doc = JSON.parse(r.stdout);
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual(['clean.txt', 'nope.txt']);
    expect(doc.errors).toHaveLength(1);
  });

  it('a rule that throws is an internal-error finding and exit 2, never a crash', async () => {
    const local = workspace();
    local.write('crash.txt', `# CRASH\n${DROPS}`);
    const r = await cli(local, ['crash.txt']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('internal error in rule TST4 (crash-on-marker): boom  DFW900 internal-error');
    expect(r.stdout).toContain('drop in INPUT');
    expect(r.stdout).not.toContain('secret stack');
  });

  it('an uncaught exception is one line of "internal error", the stack only with DEBUG=dockfw-lint', async () => {
    const local = workspace();
    local.write('plugin/rules.mjs', "export default { get meta() { throw new Error('meta exploded\\nsecond line'); }, check() {} };");
    const r = await cli(local, ['--list-rules']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('dockfw-lint: internal error: meta exploded (set DEBUG=dockfw-lint for details; please report this bug)\n');
    const debug = await cli(local, ['--list-rules'], { env: { DEBUG: 'dockfw-lint' } });
    expect(debug.stderr).toMatch(/^dockfw-lint: internal error: meta exploded\nError: meta exploded\n/);
  });

  it('usage errors say what is wrong', async () => {
    const r = await cli(ws, ['clean.txt', '--format', 'xml']);
    expect(r.stderr).toMatch(/option '-f, --format <format>' argument 'xml' is invalid\. Allowed choices are text, json, sarif, github, junit/);
    const unknown = await cli(ws, ['--bogus']);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
  });
});

describe('config', () => {
  it.each([
    [{ rules: { TST1: 'loud' } }, '.dockfw-lint.json: /rules/TST1: error: must be "off", "error", "warning", "info" or ["warning", { …options }]'],
    [{ rules: { NOPE7: 'off' } }, '.dockfw-lint.json: /rules/NOPE7: error: unknown rule "NOPE7"'],
    [{ suppressions: [{ rule: 'TST1' }] }, '.dockfw-lint.json: /suppressions/0/reason: error: "reason" is required'],
    [{ plugins: ['./plugin/rules.mjs', './missing.mjs'] }, '.dockfw-lint.json: /plugins/1: error: plugin "./missing.mjs" not found'],
  ])('%j is exit 2 with the pointer and the reason', async (config, expected) => {
    const local = workspace(config);
    local.write('clean.txt', CLEAN);
    const r = await cli(local, ['clean.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(expected)).toBe(true);
    expect(r.stdout).toBe('');
  });

  it('is found upward from the working directory and names rules by id or name', async () => {
    const local = workspace({ rules: { 'flags-drop': 'warning' } });
    local.write('sub/dir/drops.txt', DROPS);
    const r = await cli({ ...local, dir: join(local.dir, 'sub', 'dir') }, ['drops.txt']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning  drop in INPUT');
  });

  it('config suppressions and inline suppressions apply; --disable-inline-suppressions turns the inline ones off', async () => {
    const local = workspace({ suppressions: [{ rule: 'flags-drop', match: '-i eth0', reason: 'edge router' }] });
    local.write('drops.txt', DROPS.replace('-A INPUT -p udp -j DROP', '# dockfw-lint ignore=TST1 -- no UDP services\n-A INPUT -p udp -j DROP'));
    const r = await cli(local, ['drops.txt']);
    expect(r.stdout).toBe('✔ 1 file checked, no problems · 2 suppressed\n');
    expect(r.code).toBe(0);
    const off = await cli(local, ['drops.txt', '--disable-inline-suppressions']);
    expect(off.code).toBe(1);
    expect(off.stdout).toContain('6:1     error    drop in INPUT');
  });

  it("configures the engine's own diagnostics like rules", async () => {
    const text = DROPS.replace('-A INPUT -p udp -j DROP', '# dockfw-lint ignore=TST1\n-A INPUT -p udp -j DROP');
    const loud = workspace({ rules: { 'suppression-without-reason': 'error' } });
    loud.write('drops.txt', text);
    expect((await cli(loud, ['drops.txt'])).stdout).toContain('error    suppression of TST1 has no reason');
    const off = workspace({ rules: { DFW002: 'off' } });
    off.write('drops.txt', text);
    expect((await cli(off, ['drops.txt'])).stdout).not.toContain('DFW002');
  });

  it('--ext-if overrides the config', async () => {
    const local = workspace({ externalInterfaces: ['ens3'] });
    local.write('warns.txt', WARNS);
    expect((await cli(local, ['warns.txt'])).stdout).toContain('comment: hello world ext=ens3');
    expect((await cli(local, ['warns.txt', '--ext-if', 'eth1', '--ext-if', 'eth2'])).stdout).toContain('comment: hello world ext=eth1+eth2');
  });
});

describe('inputs', () => {
  it('reads stdin when no path is given, or for -, named by --stdin-filename', async () => {
    const r = await cli(ws, [], { stdin: DROPS });
    expect(r.stdout).toContain('<stdin>\n');
    const named = await cli(ws, ['-', '--stdin-filename', 'hosts/web.txt', '--format', 'json'], { stdin: DROPS });
    expect(JSON.parse(named.stdout).findings[0].file).toBe('hosts/web.txt');
  });

  it('walks directories in sorted order and pairs v4/v6 files into one host', async () => {
    const local = workspace();
    local.write('hosts/web-01.v6.txt', '');
    local.write('hosts/web-01.v4.txt', `# SHAPE\n${CLEAN}`);
    local.write('hosts/b/iptables-save.txt', `# SHAPE\n${CLEAN}`);
    local.write('hosts/b/ip6tables-save.txt', CLEAN.replace('iptables-save', 'ip6tables-save'));
    local.write('hosts/a.rules', `# SHAPE\n${CLEAN}`);
    local.write('hosts/README.md', 'not a snapshot');
    local.write('hosts/.hidden/x.txt', BAD);
    const r = await cli(local, ['hosts', '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual([
      'hosts/a.rules', 'hosts/b/ip6tables-save.txt', 'hosts/b/iptables-save.txt', 'hosts/web-01.v4.txt', 'hosts/web-01.v6.txt',
    ]);
    expect(doc.findings.map((f: { message: string }) => f.message)).toEqual([
      'host hosts/a.rules: ipv4/1',
      'host hosts/b/iptables-save.txt + hosts/b/ip6tables-save.txt: ipv4/1 ipv6/1',
      'host hosts/web-01.v4.txt + hosts/web-01.v6.txt: ipv4/1 ipv6/0',
    ]);
  });
});

describe('formats', () => {
  const files = ['drops.txt', 'warns.txt', 'clean.txt', 'bad.txt'];

  it('json validates against its schema and is the only thing on stdout', async () => {
    const r = await cli(ws, [...files, '--format', 'json']);
    expectValidJson(r.stdout);
    expect(JSON.parse(r.stdout).summary).toMatchObject({ files: 4, problems: 3, errors: 2, warnings: 1, parseErrors: 2 });
  });

  it('sarif validates against the official SARIF 2.1.0 schema', async () => {
    const r = await cli(ws, [...files, '--format', 'sarif']);
    expectValidSarif(r.stdout);
    const results = JSON.parse(r.stdout).runs[0].results;
    expect(results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['DFW000', 'DFW000', 'TST1', 'TST1', 'TST2']);
  });

  it('junit is well-formed', async () => {
    expectWellFormedXml((await cli(ws, [...files, '--format', 'junit'])).stdout);
  });

  it('github prints one annotation per line', async () => {
    const r = await cli(ws, [...files, '--format', 'github']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^::(error|warning|notice) file=/);
  });

  it('--output-file writes the document, nothing on stdout, never colour', async () => {
    const r = await cli(ws, ['drops.txt', '--format', 'sarif', '--output-file', 'out.sarif', '--color']);
    expect(r.stdout).toBe('');
    expectValidSarif(readFileSync(join(ws.dir, 'out.sarif'), 'utf8'));
    await cli(ws, ['drops.txt', '--output-file', 'out.txt'], { env: { FORCE_COLOR: '1' }, tty: true });
    expect(readFileSync(join(ws.dir, 'out.txt'), 'utf8')).not.toContain('\u001b[');
  });

  it('colour follows NO_COLOR, FORCE_COLOR, the TTY and --color/--no-color', async () => {
    const has = async (argv: string[], env: Record<string, string>, tty: boolean) => (await cli(ws, ['drops.txt', ...argv], { env, tty })).stdout.includes('\u001b[');
    expect(await has([], {}, true)).toBe(true);
    expect(await has([], {}, false)).toBe(false);
    expect(await has([], { CI: 'true' }, false)).toBe(false);
    expect(await has([], { NO_COLOR: '1' }, true)).toBe(false);
    expect(await has([], { FORCE_COLOR: '1' }, false)).toBe(true);
    expect(await has([], { FORCE_COLOR: '0' }, true)).toBe(false);
    expect(await has(['--no-color'], { FORCE_COLOR: '1' }, true)).toBe(false);
    expect(await has(['--color'], { NO_COLOR: '1' }, false)).toBe(true);
    expect(await has(['--format', 'json', '--color'], {}, true)).toBe(false);
  });

  it('DOCKFW_LINT_FORMAT sets the default format; a bad value is a usage error', async () => {
    expectValidJson((await cli(ws, ['drops.txt'], { env: { DOCKFW_LINT_FORMAT: 'json' } })).stdout);
    expect((await cli(ws, ['drops.txt', '--format', 'text'], { env: { DOCKFW_LINT_FORMAT: 'json' } })).stdout).toContain('✖ 2 problems');
    const bad = await cli(ws, ['drops.txt'], { env: { DOCKFW_LINT_FORMAT: 'yaml' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('dockfw-lint: error: DOCKFW_LINT_FORMAT=yaml is not one of text, json, sarif, github, junit\n');
  });
});

describe('escaping of hostile text', () => {
  const evil = () => {
    const local = workspace();
    local.write('evil\u001b[2J.txt', `# EVIL\n${CLEAN}`);
    return local;
  };
  it('text neutralises ANSI escapes from messages and file names', async () => {
    const r = await cli(evil(), ['.']);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('evil\\x1b[2J.txt');
    expect(r.stdout).toContain('evil \\x1b[31mred\\x1b[0m');
  });
  it('json, sarif, junit and github stay valid and unforgeable', async () => {
    const local = evil();
    const json = (await cli(local, ['.', '--format', 'json'])).stdout;
    expectValidJson(json);
    expect(JSON.parse(json).findings[0].message).toBe('evil \u001b[31mred\u001b[0m %0A 100% \n::error file=x::forged "q" \\ <x> &');
    expectValidSarif((await cli(local, ['.', '--format', 'sarif'])).stdout);
    const junit = (await cli(local, ['.', '--format', 'junit'])).stdout;
    expectWellFormedXml(junit);
    const github = (await cli(local, ['.', '--format', 'github'])).stdout;
    expect(github.trimEnd().split('\n')).toHaveLength(1);
    expect(github).toContain('::evil \\x1b[31mred\\x1b[0m %250A 100%25 %0A::error file=x::forged "q" \\ <x> &');
    expect(github).toContain('file=evil\\x1b[2J.txt');
  });
});

describe('determinism', () => {
  it('the same output whatever the order of the inputs', async () => {
    for (const format of ['text', 'json', 'sarif', 'junit', 'github']) {
      const a = await cli(ws, ['drops.txt', 'warns.txt', 'clean.txt', 'bad.txt', '--format', format]);
      const b = await cli(ws, ['bad.txt', 'clean.txt', 'warns.txt', './drops.txt', '--format', format]);
      expect(b.stdout).toBe(a.stdout);
      expect(b.stderr).toBe(a.stderr);
    }
  });
});

describe('rules information', () => {
  it('--list-rules lists plugin rules with their configured severity', async () => {
    const local = workspace({ rules: { TST1: 'warning' } });
    const r = await cli(local, ['--list-rules']);
    expect(r.stdout).toMatch(/^TST1 +flags-drop +warning \(default error\) +flags-drop summary$/m);
    expect(r.stdout).toMatch(/^TST2 +echo-comment +warning +echo-comment summary$/m);
  });
  it('--explain prints a rule by id or name', async () => {
    const r = await cli(ws, ['--explain', 'unused-suppression']);
    expect(r.stdout).toMatch(/^DFW001 unused-suppression {2}\(default severity: warning\)\n\nA suppression that suppresses nothing\./);
    expect(r.stdout).toContain('docs: https://github.com/dockfw-lint/dockfw-lint/blob/main/rules/DFW001-unused-suppression/README.md');
  });
});
