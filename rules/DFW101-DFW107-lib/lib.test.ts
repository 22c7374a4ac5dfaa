// The shared readers of DFW101–DFW107: each with cases that must and must not hold.
import { describe, expect, it } from 'vitest';
import type { Rule } from '../../grammar/ast.ts';
import { parse } from '../../grammar/index.ts';
import { spec } from './commands.ts';
import { at } from './fixtures.ts';
import { isDropOrReject, isUnconditional, namesPort, protocolAllows, usesOriginalTuple } from './ruleset.ts';

/** The first rule of INPUT in a one-rule filter table. */
function rule(options: string): Rule {
  const { rulesets, errors } = parse(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ${options}\nCOMMIT\n`, { file: 'lib.txt' });
  expect(errors).toEqual([]);
  return rulesets[0]!.tables[0]!.chains.find((c) => c.name === 'INPUT')!.rules[0]!;
}

describe('namesPort', () => {
  it('holds for a port in a --dport or multiport list of an allowed protocol', () => {
    expect(namesPort(rule('-p tcp -m tcp --dport 8080 -j DROP'), 'tcp', 8080)).toBe(true);
    expect(namesPort(rule('-p tcp -m tcp --dport 8000:9000 -j DROP'), 'tcp', 8080)).toBe(true);
    expect(namesPort(rule('-p udp -m multiport --dports 53,8080 -j DROP'), 'udp', 8080)).toBe(true);
  });
  it('does not hold for another port, another protocol, a negated list or every port', () => {
    expect(namesPort(rule('-p tcp -m tcp --dport 8081 -j DROP'), 'tcp', 8080)).toBe(false);
    expect(namesPort(rule('-p udp -m udp --dport 8080 -j DROP'), 'tcp', 8080)).toBe(false);
    expect(namesPort(rule('-p tcp -m tcp ! --dport 8080 -j DROP'), 'tcp', 8080)).toBe(false);
    expect(namesPort(rule('-p tcp -m tcp --dport 1:65535 -j DROP'), 'tcp', 8080)).toBe(false);
    expect(namesPort(rule('-j DROP'), 'tcp', 8080)).toBe(false);
  });
});

describe('protocolAllows', () => {
  it('lets a protocol through with no test, -p all, or that protocol', () => {
    expect(protocolAllows(rule('-j DROP'), 'tcp')).toBe(true);
    expect(protocolAllows(rule('-p all -j DROP'), 'tcp')).toBe(true);
    expect(protocolAllows(rule('! -p udp -j DROP'), 'tcp')).toBe(true);
  });
  it('stops another protocol', () => {
    expect(protocolAllows(rule('-p udp -j DROP'), 'tcp')).toBe(false);
    expect(protocolAllows(rule('! -p tcp -j DROP'), 'tcp')).toBe(false);
  });
});

describe('isUnconditional and isDropOrReject', () => {
  it('an address-less, interface-less rule with only a comment matches everything', () => {
    expect(isUnconditional(rule('-m comment --comment "catch all" -j DROP'))).toBe(true);
    expect(isUnconditional(rule('-s 0.0.0.0/0 -j DROP'))).toBe(true);
  });
  it('any real test makes it conditional', () => {
    expect(isUnconditional(rule('-i eth0 -j DROP'))).toBe(false);
    expect(isUnconditional(rule('-s 10.0.0.0/8 -j DROP'))).toBe(false);
    expect(isUnconditional(rule('-m conntrack --ctstate NEW -j DROP'))).toBe(false);
  });
  it('DROP and REJECT deny; ACCEPT and a jump do not', () => {
    expect(isDropOrReject(rule('-j DROP'))).toBe(true);
    expect(isDropOrReject(rule('-j REJECT'))).toBe(true);
    expect(isDropOrReject(rule('-j ACCEPT'))).toBe(false);
    expect(isDropOrReject(rule('-j LOG'))).toBe(false);
  });
});

describe('usesOriginalTuple', () => {
  it('holds for conntrack original destination matches only', () => {
    expect(usesOriginalTuple(rule('-p tcp -m conntrack --ctorigdstport 8080 -j DROP'))).toBe(true);
    expect(usesOriginalTuple(rule('-m conntrack --ctorigdst 203.0.113.10 -j DROP'))).toBe(true);
    expect(usesOriginalTuple(rule('-m conntrack --ctstate NEW -j DROP'))).toBe(false);
    expect(usesOriginalTuple(rule('-p tcp -m tcp --dport 8080 -j DROP'))).toBe(false);
  });
});

describe('spec and at', () => {
  it('spec joins the given parts and skips the missing ones', () => {
    expect(spec('-i eth0', undefined, '-j DROP')).toBe('-i eth0 -j DROP');
    expect(spec()).toBe('');
  });
  it('at places a finding on the whole line holding a fragment, and refuses a fragment no line holds', () => {
    expect(at('a\n-A INPUT -j DROP\n', '-j DROP')).toEqual({ line: 2, column: 1, endColumn: 17 });
    expect(() => at('a\n', '-j DROP')).toThrow();
  });
});
