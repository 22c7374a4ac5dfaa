import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/parse.ts';
import { printRuleSpec } from '../../grammar/printer.ts';

const TEXT = [
  '*filter',
  ':INPUT DROP [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':WEB - [0:0]',
  '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh \\"admins\\"" -j ACCEPT',
  '-A INPUT -i eth0 -j WEB',
  '-A WEB -p udp -m multiport --dports 53,123 -j DROP',
  'COMMIT',
  '',
].join('\n');

function rules() {
  const { rulesets, errors } = parse(TEXT, { file: 'x' });
  expect(errors).toEqual([]);
  return rulesets[0]!.tables[0]!.chains.flatMap((c) => c.rules);
}

describe('rule nodes print their text on first read', () => {
  it('text is the canonical specification, the same on every read', () => {
    const [ssh, jump, dns] = rules();
    expect(ssh!.text).toBe('-s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh \\"admins\\"" -j ACCEPT');
    expect(ssh!.text).toBe(ssh!.text);
    expect(jump!.text).toBe('-i eth0 -j WEB');
    expect(dns!.text).toBe(printRuleSpec(dns!));
  });

  it('behaves as plain data: spreads, JSON and structural equality all see the text', () => {
    const [ssh, jump] = rules();
    const copy = { ...ssh! };
    expect(copy.text).toBe(ssh!.text);
    expect(Object.keys(ssh!)).toContain('text');
    expect(JSON.parse(JSON.stringify(jump))).toMatchObject({ chain: 'INPUT', text: '-i eth0 -j WEB' });
    expect(ssh).toEqual(copy);
    expect(ssh).not.toEqual({ ...copy, text: '-j ACCEPT' });
  });

  it('keeps no field beyond those of a Rule', () => {
    const [ssh] = rules();
    expect(Object.keys(ssh!).sort()).toEqual([
      'chain', 'counters', 'destination', 'fragment', 'inInterface', 'matches', 'outInterface', 'protocol', 'source', 'span',
      'table', 'target', 'text',
    ]);
  });

  it('commands that rewrite rules (-E renames a chain, -Z zeroes counters) give texts that follow', () => {
    const renamed = parse(`${TEXT.replace('COMMIT\n', '')}-E WEB PUBLIC\n-Z INPUT\nCOMMIT\n`, { file: 'x' });
    expect(renamed.errors).toEqual([]);
    const input = renamed.rulesets[0]!.tables[0]!.chains.find((c) => c.name === 'INPUT')!;
    expect(input.rules[1]!.text).toBe('-i eth0 -j PUBLIC');
  });
});
