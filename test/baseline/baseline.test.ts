// Baselines: the file format (schema, order, reasons) and the CLI flags on a
// corpus host — a fresh capture with reordered rules, new counters and new
// timestamps still matches; a rule whose meaning changed is a new finding and
// its old entry is reported stale.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { baselineKey, parseBaseline, renderBaseline, SourceLines, withoutCounters, type BaselineEntry } from '../../src/baseline/index.ts';
import { cli, type Workspace } from '../cli/harness.ts';
import { expectValidJson, expectValidSarif } from '../report/validators.ts';

const CORPUS = new URL('../../corpus/mistakes/m01-input-drop-published-port.txt', import.meta.url);
const HOST = readFileSync(CORPUS, 'utf8');
const schema = JSON.parse(readFileSync(new URL('../../schemas/baseline.schema.json', import.meta.url), 'utf8'));
const validateSchema = new Ajv({ allErrors: true, strict: true }).compile(schema);

function expectValidBaseline(text: string): void {
  const ok = validateSchema(JSON.parse(text));
  expect(validateSchema.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

/** What a fresh `iptables-save -c` of the same host looks like after Docker restarted its containers. */
function recapture(text: string): string {
  const lines = text.split('\n');
  const block = (from: number, to: number) => lines.slice(from - 1, to);
  // 1-based line numbers of the corpus file: filter DOCKER ACCEPTs 36–38, nat POSTROUTING per-container 59–61, nat DOCKER DNATs 64–66.
  const reordered = [
    ...block(1, 35), ...block(36, 38).reverse(), ...block(39, 58), ...block(59, 61).reverse(), ...block(62, 63), ...block(64, 66).reverse(), ...lines.slice(66),
  ];
  let n = 0;
  return reordered
    .map((line) => line.replace(/ on \w{3} \w{3} \d+ [\d:]+ \d{4}$/, ' on Mon Jun  1 04:00:00 2026'))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ` [${++n * 7}:${n * 911}]`))
    .map((line) => (line.startsWith('-A ') ? `[${++n}:${n * 60}] ${line}` : line))
    .join('\n');
}

/** A scratch folder with no config: the built-in rules run with their defaults. */
function setUp(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'dockfw-baseline-'));
  const write = (path: string, text: string) => {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    return full;
  };
  write('hosts/web-01.txt', HOST);
  return { dir, write };
}

const json = async (ws: Workspace, args: string[]) => {
  const r = await cli(ws, ['--format', 'json', ...args]);
  return { ...r, doc: JSON.parse(r.stdout) };
};

describe('the baseline file', () => {
  const entries: BaselineEntry[] = [
    { file: 'b.txt', ruleId: 'DFW106', fingerprint: '00000000000000ff', text: '[nat] -A DOCKER -j DNAT', message: 'open' },
    { file: 'a.txt', ruleId: 'IPT204', fingerprint: '0123456789abcdef', reason: 'known' },
    { file: 'a.txt', ruleId: 'DFW101', fingerprint: 'fedcba9876543210' },
    { file: 'a.txt', ruleId: 'DFW101', fingerprint: 'fedcba9876543210' },
  ];

  it('is written sorted by file, rule and fingerprint, without duplicates, and validates against its schema', () => {
    const text = renderBaseline(entries);
    expectValidBaseline(text);
    const doc = JSON.parse(text);
    expect(doc.version).toBe(1);
    expect(doc.$schema).toMatch(/schemas\/baseline\.schema\.json$/);
    expect(doc.entries.map((e: BaselineEntry) => `${e.file} ${e.ruleId}`)).toEqual(['a.txt DFW101', 'a.txt IPT204', 'b.txt DFW106']);
    expect(Object.keys(doc.entries[2])).toEqual(['file', 'ruleId', 'fingerprint', 'text', 'message']);
    expect(renderBaseline([...entries].reverse())).toBe(text);
    const parsed = parseBaseline(text, 'b.json');
    expect(parsed.ok && parsed.value.entries.map(baselineKey)).toEqual(doc.entries.map(baselineKey));
  });

  it('is refused with the JSON pointer and the reason when malformed', () => {
    const problem = (value: unknown) => {
      const r = parseBaseline(typeof value === 'string' ? value : JSON.stringify(value), 'b.json');
      return r.ok ? undefined : `${r.problem.pointer ?? ''} ${r.problem.message}`;
    };
    expect(problem({ version: 1, entries: [] })).toBeUndefined();
    expect(problem({ version: 2, entries: [] })).toBe('/version must be one of 1');
    expect(problem({ version: 1 })).toBe('/entries "entries" is required');
    expect(problem({ version: 1, entries: [{ file: 'a', ruleId: 'DFW101', fingerprint: 'xyz' }] })).toBe('/entries/0/fingerprint must be a fingerprint: 16 hexadecimal digits');
    expect(problem({ version: 1, entries: [{ file: 'a', ruleId: 'DFW101', fingerprint: '0123456789abcdef', line: 3 }] })).toBe('/entries/0/line unknown key "line"');
    expect(problem('{ not json')).toMatch(/^ not valid JSON/);
    // The schema itself agrees with the precompiled validator on these.
    expect(validateSchema({ version: 2, entries: [] })).toBe(false);
  });

  it('shows reviewers the line without counters, with its table', () => {
    expect(withoutCounters('[12:3456] -A INPUT  -p tcp -j DROP')).toBe('-A INPUT -p tcp -j DROP');
    expect(withoutCounters(':INPUT DROP [269039:27441978]')).toBe(':INPUT DROP');
    const lines = new SourceLines(new Map([['h.txt', '*nat\n:DOCKER - [0:0]\n[1:2] -A DOCKER -j RETURN\nCOMMIT\n*filter\n# dockfw-lint ignore=DFW101\n-A INPUT -j DROP\nCOMMIT\n']]));
    expect(lines.subject('h.txt', 3)).toBe('[nat] -A DOCKER -j RETURN');
    expect(lines.subject('h.txt', 2)).toBe('[nat] :DOCKER -');
    expect(lines.subject('h.txt', 6)).toBe('# dockfw-lint ignore=DFW101');
    expect(lines.subject('h.txt', 7)).toBe('[filter] -A INPUT -j DROP');
    expect(lines.subject('h.txt', 99)).toBeUndefined();
    expect(lines.subject('other.txt', 1)).toBeUndefined();
  });
});

describe('--write-baseline and --baseline', () => {
  it('writes every finding and exits 0; the same run with --baseline reports nothing', async () => {
    const ws = setUp();
    const before = await json(ws, ['hosts']);
    expect(before.code).toBe(1);
    expect(before.doc.findings).toHaveLength(5);

    const written = await cli(ws, ['--write-baseline', '.dockfw-lint-baseline.json', 'hosts']);
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('✔ 1 file checked, no problems · 5 baselined\n');
    expect(written.stderr).toBe('dockfw-lint: wrote 5 baseline entries to .dockfw-lint-baseline.json\n');
    const text = readFileSync(join(ws.dir, '.dockfw-lint-baseline.json'), 'utf8');
    expectValidBaseline(text);
    const doc = JSON.parse(text);
    expect(doc.entries.map((e: BaselineEntry) => baselineKey(e)).sort())
      .toEqual(before.doc.findings.map((f: BaselineEntry) => baselineKey(f)).sort());
    expect(doc.entries.find((e: BaselineEntry) => e.text?.includes('--dport 8081'))).toMatchObject({
      file: 'hosts/web-01.txt', ruleId: 'DFW106', text: '[nat] -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:8080',
    });

    const after = await json(ws, ['--baseline', '.dockfw-lint-baseline.json', 'hosts']);
    expect(after.code).toBe(0);
    expect(after.doc.findings).toEqual([]);
    expect(after.doc.summary).toMatchObject({ problems: 0, baselined: 5 });
    expectValidJson(after.stdout);
  });

  it('still matches a fresh capture: rules reordered, new counters, new timestamps', async () => {
    const ws = setUp();
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    const original = (await json(ws, ['hosts'])).doc.findings;
    ws.write('hosts/web-01.txt', recapture(HOST));
    const moved = (await json(ws, ['hosts'])).doc.findings;
    // The capture really moved the findings and changed the text…
    expect(readFileSync(join(ws.dir, 'hosts/web-01.txt'), 'utf8')).toMatch(/^\[\d+:\d+\] -A DOCKER -d 172\.17\.0\.2\/32/m);
    const lineOf = (findings: { message: string; line: number }[]) => findings.find((f) => f.message.includes('0.0.0.0:8081'))!.line;
    expect([lineOf(original), lineOf(moved)]).toEqual([66, 64]);
    // … but not the fingerprints.
    expect(moved.map((f: BaselineEntry) => baselineKey(f)).sort()).toEqual(original.map((f: BaselineEntry) => baselineKey(f)).sort());
    const r = await json(ws, ['--baseline', 'baseline.json', 'hosts']);
    expect(r.doc.findings).toEqual([]);
    expect(r.doc.summary.baselined).toBe(5);
    expect(r.code).toBe(0);
  });

  it('reports a rule whose meaning changed as a new finding and its old entry as stale (DFW005)', async () => {
    const ws = setUp();
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    ws.write('hosts/web-01.txt', HOST.replace('--dport 8081 -j DNAT', '--dport 8082 -j DNAT'));
    const r = await json(ws, ['--baseline', 'baseline.json', 'hosts']);
    expect(r.doc.findings.map((f: { ruleId: string; file: string }) => `${f.ruleId} ${f.file}`)).toEqual(['DFW005 baseline.json', 'DFW106 hosts/web-01.txt']);
    expect(r.doc.findings[1].message).toContain('0.0.0.0:8082');
    const stale = r.doc.findings[0];
    expect(stale.severity).toBe('warning');
    expect(stale.message).toBe('baseline entry for DFW106 in hosts/web-01.txt matches no finding any more '
      + '([nat] -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:8080): remove it or rewrite the baseline');
    const baselineLines = readFileSync(join(ws.dir, 'baseline.json'), 'utf8').split('\n');
    expect(baselineLines[stale.line - 1]!.slice(stale.column - 1)).toMatch(/^"fingerprint": "[0-9a-f]{16}"/);
    expect(baselineLines[stale.line - 2]).toContain('"DFW106"');
    expect(r.doc.summary.baselined).toBe(4);
    expect(r.code).toBe(0);
    expect((await cli(ws, ['--baseline', 'baseline.json', '--failure-threshold', 'warning', 'hosts'])).code).toBe(1);

    // An error-level rule whose meaning changed fails the gate.
    ws.write('hosts/web-01.txt', HOST.replace('-s 198.51.100.0/24 -p tcp -m tcp --dport 8080', '-s 198.51.100.0/25 -p tcp -m tcp --dport 8080'));
    const widened = await json(ws, ['--baseline', 'baseline.json', 'hosts']);
    expect(widened.code).toBe(1);
    expect(widened.doc.findings.filter((f: { ruleId: string }) => f.ruleId === 'DFW101')).toHaveLength(1);
    expect(widened.doc.findings.filter((f: { ruleId: string }) => f.ruleId === 'DFW005')).toHaveLength(1);
  });

  it('keeps reasons and the entries of files not linted when rewriting', async () => {
    const ws = setUp();
    ws.write('hosts/db-01.txt', HOST);
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    const doc = JSON.parse(readFileSync(join(ws.dir, 'baseline.json'), 'utf8'));
    expect(doc.entries).toHaveLength(10);
    doc.entries[7].reason = 'public shop, rate-limited upstream';
    writeFileSync(join(ws.dir, 'baseline.json'), JSON.stringify(doc, null, 2));
    // Rewritten from one file only: the other file's entries stay, the reason stays.
    expect((await cli(ws, ['--write-baseline', 'baseline.json', 'hosts/web-01.txt'])).code).toBe(0);
    const again = JSON.parse(readFileSync(join(ws.dir, 'baseline.json'), 'utf8'));
    expect(again.entries).toEqual(doc.entries);
  });

  it('reports entries stale only where this run can tell: linted files, rules that ran, hosts that are gone', async () => {
    const ws = setUp();
    ws.write('hosts/db-01.txt', HOST);
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    ws.write('hosts/web-01.txt', HOST.replace('--dport 8081 -j DNAT', '--dport 8082 -j DNAT'));
    const staleIn = async (args: string[]) => (await json(ws, ['--baseline', 'baseline.json', ...args])).doc.findings
      .filter((f: { ruleId: string }) => f.ruleId === 'DFW005').map((f: { message: string }) => /in (\S+) matches/.exec(f.message)![1]);
    expect(await staleIn(['hosts'])).toEqual(['hosts/web-01.txt']);
    expect(await staleIn(['hosts/db-01.txt'])).toEqual([]);
    // --quiet: warnings' rules did not run, so their entries cannot be judged.
    expect((await json(ws, ['--baseline', 'baseline.json', '--quiet', 'hosts'])).doc.findings).toEqual([]);
    // A file that does not parse was not linted: its entries are not stale, and the run exits 2.
    ws.write('hosts/web-01.txt', `${HOST}-A NOPE\n`);
    const broken = await json(ws, ['--baseline', 'baseline.json', 'hosts']);
    expect(broken.code).toBe(2);
    expect(broken.doc.findings).toEqual([]);
    // A host that is gone: its entries are stale even when the run did not name it.
    rmSync(join(ws.dir, 'hosts/web-01.txt'));
    expect(await staleIn(['hosts/db-01.txt'])).toEqual(['hosts/web-01.txt', 'hosts/web-01.txt', 'hosts/web-01.txt', 'hosts/web-01.txt', 'hosts/web-01.txt']);
  });

  it('DFW005 is configured like any rule', async () => {
    const ws = setUp();
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    ws.write('hosts/web-01.txt', HOST.replace('--dport 8081 -j DNAT', '--dport 8082 -j DNAT'));
    ws.write('.dockfw-lint.json', JSON.stringify({ rules: { DFW005: 'error' } }));
    const strict = await json(ws, ['--baseline', 'baseline.json', 'hosts']);
    expect(strict.code).toBe(1);
    expect(strict.doc.findings.map((f: { ruleId: string; severity: string }) => `${f.ruleId} ${f.severity}`)).toEqual(['DFW005 error', 'DFW106 warning']);
    // A rule that is off reports nothing, so its entries cannot be judged stale.
    ws.write('.dockfw-lint.json', JSON.stringify({ rules: { DFW005: 'error', DFW106: 'off' } }));
    expect((await json(ws, ['--baseline', 'baseline.json', 'hosts'])).code).toBe(0);
    ws.write('.dockfw-lint.json', JSON.stringify({ rules: { 'stale-baseline-entry': 'off' } }));
    expect((await json(ws, ['--baseline', 'baseline.json', 'hosts'])).doc.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['DFW106']);
  });

  it('refuses a missing or invalid baseline, and will not overwrite a file that is not one (exit 2)', async () => {
    const ws = setUp();
    const missing = await cli(ws, ['--baseline', 'nope.json', 'hosts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('nope.json: error: baseline file not found\n  hint: write one with `dockfw-lint --write-baseline FILE …`\n');
    ws.write('bad.json', JSON.stringify({ version: 1, entries: [{ file: 'x', ruleId: 'DFW101' }] }));
    const bad = await cli(ws, ['--baseline', 'bad.json', 'hosts']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bad\.json: \/entries\/0\/fingerprint: error: "fingerprint" is required\n/);
    ws.write('package.json', '{ "name": "not a baseline" }\n');
    const clobber = await cli(ws, ['--write-baseline', 'package.json', 'hosts']);
    expect(clobber.code).toBe(2);
    expect(readFileSync(join(ws.dir, 'package.json'), 'utf8')).toBe('{ "name": "not a baseline" }\n');
  });
});

describe('machine formats with a baseline', () => {
  it('SARIF leaves baselined results out, stays valid, and carries stale entries as DFW005 results', async () => {
    const ws = setUp();
    const plain = JSON.parse((await cli(ws, ['--format', 'sarif', 'hosts'])).stdout);
    expect(plain.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).not.toContain('DFW005');
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    const clean = await cli(ws, ['--format', 'sarif', '--baseline', 'baseline.json', 'hosts']);
    expectValidSarif(clean.stdout);
    expect(JSON.parse(clean.stdout).runs[0].results).toEqual([]);

    ws.write('hosts/web-01.txt', HOST.replace('--dport 8081 -j DNAT', '--dport 8082 -j DNAT'));
    const r = await cli(ws, ['--format', 'sarif', '--baseline', 'baseline.json', 'hosts']);
    expectValidSarif(r.stdout);
    const run = JSON.parse(r.stdout).runs[0];
    expect(run.results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['DFW005', 'DFW106']);
    expect(run.results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('baseline.json');
    expect(run.tool.driver.rules[run.results[0].ruleIndex].id).toBe('DFW005');
  });

  it('JSON, GitHub and JUnit reports leave baselined findings out', async () => {
    const ws = setUp();
    await cli(ws, ['--write-baseline', 'baseline.json', 'hosts']);
    for (const format of ['github', 'junit']) {
      const r = await cli(ws, ['--format', format, '--baseline', 'baseline.json', 'hosts']);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/::warning|<failure/);
    }
    expectValidJson((await cli(ws, ['--format', 'json', '--write-baseline', 'baseline.json', 'hosts'])).stdout);
  });
});
