import { describe, expect, it } from 'vitest';
import { decideColour } from '../../src/report/colour.ts';
import { escapeData, escapeProperty, formatGithub } from '../../src/report/github.ts';
import { formatJson } from '../../src/report/json.ts';
import { escapeXml, formatJunit } from '../../src/report/junit.ts';
import { formatSarif } from '../../src/report/sarif.ts';
import { formatParseError, formatText } from '../../src/report/text.ts';
import { findings, report } from './fixtures.ts';
import { expectValidJson, expectValidSarif, expectWellFormedXml } from './validators.ts';


describe('json', () => {
  it('validates against schemas/output.schema.json and escapes everything', () => {
    const text = formatJson(report());
    expectValidJson(text);
    expect(text).not.toMatch(/[\u0000-\u001f](?<!\n)/);
    const doc = JSON.parse(text);
    expect(doc.findings[0].message).toBe(findings[0]!.message);
    expect(doc.summary).toEqual({ files: 4, filesWithFindings: 2, filesWithErrors: 1, problems: 3, errors: 1, warnings: 1, infos: 1, parseErrors: 1, suppressed: 2 });
    expect(doc.files[0]).toEqual({ path: 'clean.txt', findings: 0, errors: 0 });
  });
  it('validates when empty', () => expectValidJson(formatJson(report({ findings: [], errors: [], files: [] }))));
});

describe('sarif', () => {
  it('validates against the official SARIF 2.1.0 schema', () => {
    expectValidSarif(formatSarif(report()));
    expectValidSarif(formatSarif(report({ findings: [], errors: [] })));
  });
  it('has what GitHub code scanning reads', () => {
    const log = JSON.parse(formatSarif(report()));
    const run = log.runs[0];
    const rule = run.tool.driver.rules.find((r: { id: string }) => r.id === 'DFW101');
    expect(rule.shortDescription.text).toBe('An INPUT rule never sees published ports.');
    expect(rule.fullDescription.text).toMatch(/^Docker DNATs/);
    expect(rule.help.text).toContain('Documentation: https://');
    expect(rule.helpUri).toBe('https://github.com/dockfw-lint/dockfw-lint/blob/main/rules/DFW101-input-rule-misses-published-port/README.md');
    expect(rule.properties.tags).toContain('security');
    expect(rule.properties['security-severity']).toBe('8.0');
    const levels = run.results.map((r: { ruleId: string; level: string }) => `${r.ruleId}:${r.level}`);
    expect(levels).toEqual(['DFW000:error', 'DFW101:error', 'IPT202:note', 'DFW001:warning']);
    const first = run.results[1];
    expect(first.locations).toHaveLength(1);
    expect(first.locations[0].physicalLocation.artifactLocation.uri).toBe('hosts/web%201.txt');
    expect(first.locations[0].physicalLocation.region).toEqual({ startLine: 14, startColumn: 1, endLine: 14, endColumn: 40 });
    expect(run.results[2].locations[0].physicalLocation.region).toEqual({ startLine: 20, startColumn: 1, endLine: 20 });
    expect(run.results[3].locations[0].physicalLocation.artifactLocation.uri).toBe('z%2525/b%2Cc%3Ad.txt');
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
  });
});

describe('github', () => {
  it('escapes data and properties as actions/toolkit does', () => {
    expect(escapeData('a%b\r\nc')).toBe('a%25b%0D%0Ac');
    expect(escapeProperty('a:b,c%d\n')).toBe('a%3Ab%2Cc%25d%0A');
  });
  it('cannot be forged by a message: one annotation per line, each a single line', () => {
    const out = formatGithub(report());
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^::(error|warning|notice) file=[^:,]+(,[a-zA-Z]+=[^:,]+)*::/);
    expect(out).not.toMatch(/\u001b/);
    expect(out).not.toMatch(/\r/);
    expect(lines[1]).toContain('title=dockfw-lint (DFW101 input-rule-misses-published-port)');
    expect(lines[1]).toContain('%250A 100%25 %0A::error file=x.txt,line=1::forged%0D%0A');
    expect(lines[1]).toContain('\\u{202e}evil');
    expect(lines[3]).toContain('file=z%2525/b%2Cc%3Ad.txt');
    expect(lines[2]!.startsWith('::notice ')).toBe(true);
  });
});

describe('junit', () => {
  it('is well-formed XML with one suite per file, one case per rule and a failure per finding', () => {
    const xml = formatJunit(report());
    expectWellFormedXml(xml);
    expect(xml).toContain('<testsuite name="hosts/web 1.txt" tests="2" failures="2" errors="0" skipped="0">');
    expect(xml).toContain('<testsuite name="hosts/bad.txt" tests="1" failures="1" errors="0" skipped="0">');
    expect(xml).toContain('<testcase name="DFW101 input-rule-misses-published-port" classname="hosts/web 1.txt">');
    expect(xml).toContain('&quot;quoted&quot; \\back\\slash &lt;tag&gt; &amp; &apos;apos&apos; \\u{0}nul');
  });
  it('escapes XML specials and characters XML cannot hold', () => {
    expect(escapeXml('<a href="x">&\u0001\ud800</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;\\u{1}\\u{d800}&lt;/a&gt;');
  });
});

describe('text', () => {
  it('neutralises terminal escapes and bidi overrides in rule text', () => {
    const out = formatText(report(), { color: false });
    expect(out).not.toMatch(/[\u001b\u0000\u202e]/);
    expect(out).toContain('\\x1b[31mred\\x1b[0m');
    expect(out).toContain('\\u{202e}evil');
  });
  it('groups by file, shows path and fix, ends with the summary', () => {
    const out = formatText(report({ findings: findings.map((f) => ({ ...f, message: f.message.split(':')[0]!, fix: f.fix?.split('\n')[0] })) }), { color: false });
    expect(out).toBe([
      'hosts/web 1.txt',
      '  14:1    error    INPUT drops tcp/8080 but Docker forwards it  DFW101 input-rule-misses-published-port',
      '          path:',
      '            PREROUTING nat/DOCKER line 30: -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ⇒ dnat → 172.17.0.2:80',
      '            FORWARD filter/FORWARD policy: policy DROP ⇒ policy-drop (uncertain match)',
      '          fix: iptables -I DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP',
      '  20:1    info     chain OLD is never used  IPT202 unused-chain',
      '',
      'z%25/b,c:d.txt',
      '  3:2     warning  unused suppression  DFW001 unused-suppression',
      '',
      '✖ 3 problems (1 error, 1 warning, 1 info) in 2 of 4 files · 1 file could not be checked (1 error) · 2 suppressed',
      '',
    ].join('\n'));
  });
  it('says so when clean, and nothing under --quiet', () => {
    const clean = report({ findings: [], errors: [], suppressed: 0 });
    expect(formatText(clean, { color: false })).toBe('✔ 4 files checked, no problems\n');
    expect(formatText(clean, { color: false, quiet: true })).toBe('');
    expect(formatText(report({ findings: [], errors: [], files: ['a'], suppressed: 0 }), { color: true })).toBe('\u001b[32m✔ 1 file checked, no problems\u001b[39m\n');
  });
  it('prints parse errors in compiler form with a hint', () => {
    expect(formatParseError({ span: { file: 'a.txt', line: 3, column: 7, endColumn: 9 }, message: 'unknown table "bogus"', found: 'bogus', expected: 'one of raw, nat', hint: 'check the spelling' }))
      .toBe('a.txt:3:7: error: unknown table "bogus" (found bogus, expected one of raw, nat)\n  hint: check the spelling');
  });
});

describe('colour decision', () => {
  it.each([
    [{ flag: true, env: { NO_COLOR: '1' }, isTTY: false }, true],
    [{ flag: false, env: { FORCE_COLOR: '1' }, isTTY: true }, false],
    [{ env: { NO_COLOR: '1' }, isTTY: true }, false],
    [{ env: { NO_COLOR: '' }, isTTY: true }, true],
    [{ env: { FORCE_COLOR: '0' }, isTTY: true }, false],
    [{ env: { FORCE_COLOR: '' }, isTTY: false }, true],
    [{ env: { FORCE_COLOR: '3' }, isTTY: false }, true],
    [{ env: { CI: 'true' }, isTTY: false }, false],
    [{ env: { TERM: 'dumb' }, isTTY: true }, false],
    [{ env: {}, isTTY: true }, true],
  ])('%j → %s', (inputs, expected) => {
    expect(decideColour(inputs)).toBe(expected);
  });
});
