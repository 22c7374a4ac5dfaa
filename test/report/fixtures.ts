// A report full of hostile text: ANSI escapes, workflow-command look-alikes,
// percent signs, newlines, quotes, backslashes, XML specials, bidi overrides.
import { ENGINE_RULES } from '../../src/engine/engine-rules.ts';
import { defineRule, type Finding, type LintRule } from '../../src/engine/types.ts';
import type { LintReport } from '../../src/report/types.ts';

export const HOSTILE = 'evil \u001b[31mred\u001b[0m %0A 100% \n::error file=x.txt,line=1::forged\r\n "quoted" \\back\\slash <tag> & \'apos\' \u0000nul \u202eevil\u202c';

export const securityRule: LintRule = defineRule<'m'>({
  meta: {
    id: 'DFW101', name: 'input-rule-misses-published-port', severity: 'error', summary: 'An INPUT rule never sees published ports.',
    description: 'Docker DNATs published ports in PREROUTING, so they are forwarded, not delivered to INPUT.', tags: ['security', 'docker'], messages: { m: '{x}' },
  },
  check() {},
});

export const infoRule: LintRule = defineRule<'m'>({
  meta: { id: 'IPT202', name: 'unused-chain', severity: 'info', summary: 'A chain nothing jumps to.', description: '', tags: ['iptables'], messages: { m: 'x' } },
  check() {},
});

const step = {
  hook: 'PREROUTING' as const, table: 'nat' as const, chain: 'DOCKER', position: 3, line: 30, file: 'hosts/web 1.txt',
  rule: '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80', matched: true as const, action: 'dnat' as const, rewrite: '172.17.0.2:80',
};

export const findings: Finding[] = [
  {
    ruleId: 'DFW101', ruleName: 'input-rule-misses-published-port', severity: 'error', file: 'hosts/web 1.txt', line: 14, column: 1, endColumn: 40,
    message: `INPUT drops tcp/8080 but Docker forwards it: ${HOSTILE}`, path: [step, { ...step, hook: 'FORWARD', table: 'filter', chain: 'FORWARD', line: 0, rule: 'policy DROP', matched: 'unknown', action: 'policy-drop', rewrite: undefined }],
    fix: `iptables -I DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP\n# ${HOSTILE}`, fingerprint: '0123456789abcdef',
  },
  {
    ruleId: 'IPT202', ruleName: 'unused-chain', severity: 'info', file: 'hosts/web 1.txt', line: 20, column: 1, endColumn: 1,
    message: 'chain OLD is never used', fingerprint: 'fedcba9876543210',
  },
  {
    ruleId: 'DFW001', ruleName: 'unused-suppression', severity: 'warning', file: 'z%25/b,c:d.txt', line: 3, column: 2, endColumn: 9,
    message: 'unused suppression', fingerprint: 'aaaaaaaaaaaaaaaa',
  },
];

export function report(overrides: Partial<LintReport> = {}): LintReport {
  return {
    tool: { name: 'dockfw-lint', version: '0.1.0', informationUri: 'https://github.com/dockfw-lint/dockfw-lint' },
    files: ['clean.txt', 'hosts/bad.txt', 'hosts/web 1.txt', 'z%25/b,c:d.txt'],
    findings,
    errors: [{ span: { file: 'hosts/bad.txt', line: 2, column: 5, endColumn: 9 }, message: `unexpected "${HOSTILE}"`, found: '"x"', expected: 'a table', hint: 'fix it' }],
    rules: [...ENGINE_RULES, securityRule, infoRule].sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1)),
    suppressed: 2,
    ...overrides,
  };
}
