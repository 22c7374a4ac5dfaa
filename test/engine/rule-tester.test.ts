import { describe, expect, it } from 'vitest';
import { findingsOf, ruleTester } from '../../src/engine/rule-tester.ts';
import { dropRule, policyRule } from './fakes.ts';

const snippet = (lines: string) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n${lines}\nCOMMIT\n`;

ruleTester(dropRule, {
  valid: [snippet('-A INPUT -j ACCEPT'), { name: 'no rules at all', code: '' }],
  invalid: [
    {
      code: snippet('-A INPUT -p udp -j DROP\n-A FORWARD -j DROP'),
      errors: [
        { messageId: 'drop', line: 5, column: 1, endColumn: 24, message: 'rule drops udp in INPUT', fix: '-D INPUT' },
        { messageId: 'drop', line: 6, message: /FORWARD$/, severity: 'warning' },
      ],
    },
  ],
});

ruleTester(policyRule, {
  valid: [{ code: snippet(''), options: { chains: ['FORWARD'] } }],
  invalid: [{ code: snippet(''), options: { chains: ['OUTPUT'] }, errors: [{ line: 4, message: 'OUTPUT accepts by default' }] }],
});

describe('findingsOf', () => {
  it('refuses a snippet that does not parse', () => {
    expect(() => findingsOf(dropRule, { code: '*filter\n-A NOPE -j DROP\nCOMMIT\n' })).toThrow(/the snippet does not parse:\n {2}2:/);
  });
});
