import { describe, expect, it } from 'vitest';
import { lintText } from '../../src/engine/engine.ts';
import type { ConfigSuppression } from '../../src/engine/suppressions.ts';
import { compileGlob, parsePragma } from '../../src/engine/suppressions.ts';
import { dropRule, fakeAnalysers, policyRule } from './fakes.ts';

const BASE = (lines: string) => `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
${lines}
COMMIT
`;

function lint(text: string, options: { suppressions?: ConfigSuppression[]; inline?: boolean; configText?: string } = {}) {
  return lintText(text, {
    rules: [dropRule, policyRule], analysers: fakeAnalysers, file: 'hosts/a.txt',
    ruleConfig: { TST102: { severity: 'off' } },
    lint: { today: '2030-06-15', suppressions: options.suppressions, inlineSuppressions: options.inline, configFile: 'cfg.json', configText: options.configText },
  }).findings.map((f) => `${f.line}:${f.column} ${f.ruleId} ${f.message}`);
}

describe('pragmas', () => {
  it('parses ids, names, reasons and global', () => {
    expect(parsePragma(' dockfw-lint ignore=DFW101,drop-rule -- lab host')).toEqual({ global: false, names: ['DFW101', 'drop-rule'], reason: 'lab host' });
    expect(parsePragma('dockfw-lint global ignore=TST101')).toEqual({ global: true, names: ['TST101'], reason: undefined });
    expect(parsePragma('dockfw-lint ignore=A, B --')).toEqual({ global: false, names: ['A', 'B'], reason: undefined });
    expect(parsePragma('just a comment')).toBeUndefined();
    expect(parsePragma('dockfw-lint ignroe=X')).toMatch(/^malformed suppression/);
  });
});

describe('inline suppressions', () => {
  it('a comment line suppresses the next rule line only', () => {
    const text = BASE('# dockfw-lint ignore=TST101 -- udp is blocked upstream\n\n-A INPUT -p udp -j DROP\n-A INPUT -p tcp -j DROP');
    expect(lint(text)).toEqual(['8:1 TST101 rule drops tcp in INPUT']);
  });

  it('accepts the rule name, in any case for ids', () => {
    expect(lint(BASE('# dockfw-lint ignore=drop-rule -- ok\n-A INPUT -j DROP'))).toEqual([]);
    expect(lint(BASE('# dockfw-lint ignore=tst101 -- ok\n-A INPUT -j DROP'))).toEqual([]);
  });

  it('global applies to the whole file', () => {
    expect(lint(BASE('-A INPUT -p udp -j DROP\n# dockfw-lint global ignore=TST101 -- lab\n-A INPUT -p tcp -j DROP'))).toEqual([]);
  });

  it('a comment match suppresses its own rule and survives iptables-save', () => {
    const text = BASE('-A INPUT -p udp -m comment --comment "dockfw-lint ignore=TST101 -- DNS is elsewhere" -j DROP\n-A INPUT -p tcp -j DROP');
    expect(lint(text)).toEqual(['6:1 TST101 rule drops tcp in INPUT']);
  });

  it('reports a suppression without a reason (and still applies it)', () => {
    expect(lint(BASE('# dockfw-lint ignore=TST101\n-A INPUT -j DROP'))).toEqual(['5:1 DFW002 suppression of TST101 has no reason: add " -- why this is fine"']);
  });

  it('reports unused suppressions with where they looked', () => {
    expect(lint(BASE('# dockfw-lint ignore=TST101 -- x\n-A INPUT -j ACCEPT'))).toEqual(['5:1 DFW001 unused suppression of TST101: no finding on the next rule line (line 6)']);
    expect(lint(BASE('-A INPUT -j ACCEPT\n# dockfw-lint ignore=TST101 -- x'))).toEqual(['6:1 DFW001 unused suppression of TST101: no rule line follows it']);
  });

  it('does not call a suppression of a disabled rule unused', () => {
    expect(lint(BASE('# dockfw-lint ignore=TST102 -- x\n-A INPUT -j ACCEPT'))).toEqual([]);
  });

  it('reports unknown rules and malformed pragmas', () => {
    expect(lint(BASE('# dockfw-lint ignore=NOPE1 -- x\n-A INPUT -j ACCEPT\n# dockfw-lint ignore\n-A INPUT -j ACCEPT'))).toEqual([
      '5:1 DFW004 suppression names unknown rule "NOPE1"',
      '7:1 DFW004 malformed suppression: expected "dockfw-lint ignore=RULE[,RULE…] -- reason"',
    ]);
  });

  it('--disable-inline-suppressions ignores them all', () => {
    expect(lint(BASE('# dockfw-lint ignore=TST101 -- x\n-A INPUT -j DROP'), { inline: false })).toEqual(['6:1 TST101 rule drops all in INPUT']);
  });
});

describe('config suppressions', () => {
  const text = BASE('-A INPUT -p udp -j DROP\n-A INPUT -p tcp -j DROP');
  it('match by rule text, file glob and line', () => {
    expect(lint(text, { suppressions: [{ rule: 'drop-rule', file: 'hosts/*.txt', match: '-p udp', reason: 'r' }] })).toEqual(['6:1 TST101 rule drops tcp in INPUT']);
    expect(lint(text, { suppressions: [{ rule: 'TST101', line: 6, reason: 'r' }] })).toEqual(['5:1 TST101 rule drops udp in INPUT']);
    expect(lint(text, { suppressions: [{ rule: 'TST101', file: '**/a.txt', reason: 'r' }] })).toEqual([]);
  });

  it('an expired suppression no longer applies and is reported where it is written', () => {
    const configText = '{\n  "suppressions": [\n    { "rule": "TST101", "reason": "until the migration", "expires": "2030-06-14" }\n  ]\n}\n';
    expect(lint(BASE('-A INPUT -j DROP'), { suppressions: [{ rule: 'TST101', reason: 'until the migration', expires: '2030-06-14' }], configText })).toEqual([
      '3:7 DFW003 suppression of TST101 expired on 2030-06-14 and no longer applies (until the migration)',
      '5:1 TST101 rule drops all in INPUT',
    ]);
    expect(lint(BASE('-A INPUT -j DROP'), { suppressions: [{ rule: 'TST101', reason: 'r', expires: '2030-06-15' }] })).toEqual([]);
  });

  it('unused and unknown config suppressions are reported', () => {
    expect(lint(BASE('-A INPUT -j ACCEPT'), { suppressions: [{ rule: 'TST101', file: 'other.txt', reason: 'r' }, { rule: 'NOPE2', reason: 'r' }] })).toEqual([
      '1:1 DFW001 unused suppression of TST101: no finding in other.txt (cfg.json)',
      '1:1 DFW004 suppression names unknown rule "NOPE2"',
    ]);
  });
});

describe('globs', () => {
  it.each([
    ['hosts/*.txt', 'hosts/a.txt', true], ['hosts/*.txt', 'hosts/x/a.txt', false], ['**/a.txt', 'a.txt', true],
    ['**/a.txt', 'x/y/a.txt', true], ['hosts/**', 'hosts/x/y', true], ['a?.txt', 'ab.txt', true], ['a.txt', 'a-txt', false],
  ])('%s ~ %s = %s', (glob, path, expected) => {
    expect(compileGlob(glob).test(path)).toBe(expected);
  });
});

describe('fingerprints of suppression findings', () => {
  it('do not move with line numbers', () => {
    const prints = (text: string) => lintText(text, { rules: [dropRule], analysers: fakeAnalysers, lint: { today: '2030-01-01' } }).findings.map((f) => `${f.ruleId}:${f.fingerprint}`);
    const a = prints(BASE('# dockfw-lint ignore=TST101\n-A INPUT -j ACCEPT'));
    const b = prints(BASE('-A INPUT -p tcp -j ACCEPT\n# dockfw-lint ignore=TST101\n-A INPUT -j ACCEPT'));
    expect(a).toHaveLength(2);
    expect(b).toEqual(a);
  });
});
