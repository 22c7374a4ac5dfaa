// Exposure when the answer depends on matches the dump cannot decide (an ipset's
// members, `recent`'s history, `limit`'s rate): the walk tries both outcomes of
// each, and sources that get through on some outcomes only are listed apart, as
// conditionally reachable, with the rules the answer depends on — never dropped
// from the answer as if they were blocked.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { ExposureEntry } from '../../src/sim/types.ts';

const input = (...lines: string[]) => ['*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...lines, 'COMMIT', ''].join('\n');
/** The first rule's line in `input`. */
const FIRST = 5;

function hostExposure(text: string): ExposureEntry[] {
  const result = parse(text, { file: 'conditions.txt' });
  expect(result.errors).toEqual([]);
  const ruleset = result.rulesets[0]!;
  const sim = createSimulator(ruleset, recogniseDocker(ruleset), { localAddresses: ['203.0.113.10'], externalInterfaces: ['eth0'] });
  return [...sim.exposure().host];
}

const port = (entries: readonly ExposureEntry[], p: number) => entries.find((e) => e.proto === 'tcp' && e.hostPort === p);

describe('exposure: sources that depend on undecidable matches', () => {
  it('a port behind a `recent` rate limit is maybe reachable from everyone, depending on that rule', () => {
    const ssh = port(hostExposure(input(
      '-A INPUT -p tcp -m tcp --dport 22 -m recent --name ssh --rcheck --seconds 60 --hitcount 4 -j DROP',
      '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
    )), 22);
    expect(ssh?.reachableFrom).toEqual([]);
    expect(ssh?.conditionallyReachableFrom).toEqual([
      // Reached when the guard does not match: a guard in front of an open port.
      { interface: 'eth0', sources: ['0.0.0.0/0'], conditions: [{ line: FIRST, reason: expect.stringContaining('-m recent') }], whenNoneMatch: true },
    ]);
  });

  it('a port open to an ipset is maybe reachable, depending on the set', () => {
    const web = port(hostExposure(input('-A INPUT -p tcp -m tcp --dport 80 -m set --match-set allowed src -j ACCEPT')), 80);
    expect(web?.reachableFrom).toEqual([]);
    // An allow-list: reached only when the set matches.
    expect(web?.conditionallyReachableFrom.map((r) => [r.interface, r.sources, r.conditions.map((c) => c.line), r.whenNoneMatch])).toEqual([['eth0', ['0.0.0.0/0'], [FIRST], false]]);
  });

  it('sources a decided rule lets in stay certain; only the rest depend on the set', () => {
    const web = port(hostExposure(input(
      '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 80 -m set --match-set allowed src -j ACCEPT',
    )), 80);
    expect(web?.reachableFrom).toEqual([{ interface: 'eth0', sources: ['10.0.0.0/8'] }]);
    const maybe = web?.conditionallyReachableFrom[0];
    expect(maybe?.sources).not.toContain('10.0.0.0/8');
    expect(maybe?.sources).toContain('0.0.0.0/5');
    expect(maybe?.sources).toContain('11.0.0.0/8');
    expect(maybe?.conditions.map((c) => c.line)).toEqual([FIRST + 1]);
  });

  it('a blocklist set in front of an open port: reachable unless listed, so maybe reachable', () => {
    const web = port(hostExposure(input(
      '-A INPUT -m set --match-set blocked src -j DROP',
      '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT',
    )), 443);
    expect(web?.reachableFrom).toEqual([]);
    expect(web?.conditionallyReachableFrom[0]?.sources).toEqual(['0.0.0.0/0']);
    expect(web?.conditionallyReachableFrom[0]?.whenNoneMatch).toBe(true);
  });

  it('an undecidable match that cannot change the verdict leaves the answer certain', () => {
    const ssh = port(hostExposure(input(
      '-A INPUT -p tcp -m tcp --dport 22 -m limit --limit 5/min -j LOG --log-prefix "ssh "',
      '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
    )), 22);
    expect(ssh?.reachableFrom).toEqual([{ interface: 'eth0', sources: ['0.0.0.0/0'] }]);
    expect(ssh?.conditionallyReachableFrom).toEqual([]);
  });

  it('a port closed whatever the undecidable matches do is not listed', () => {
    const entries = hostExposure(input(
      '-A INPUT -p tcp -m tcp --dport 25 -m set --match-set mail src -j DROP',
      '-A INPUT -p tcp -m tcp --dport 25 -j DROP',
    ));
    expect(port(entries, 25)).toBeUndefined();
  });
});

describe('exposure: approximate answers say so, where they are approximate', () => {
  const rules = input(
    '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
    '-A INPUT -s 0.0.0.0/0.0.0.255 -p tcp -m tcp --dport 22 -j ACCEPT',
  );

  it('a loose dotted mask that decides a port marks that port partial, even when it lists nobody', () => {
    const ssh = port(hostExposure(rules), 22);
    expect(ssh?.partial).toMatch(/^0\.0\.0\.0\/0\.0\.0\.255 leaves 24 bits free/);
  });

  it('ports whose rules the mask cannot decide stay exact', () => {
    const web = port(hostExposure(rules), 80);
    expect(web?.reachableFrom).toEqual([{ interface: 'eth0', sources: ['0.0.0.0/0'] }]);
    expect(web?.partial).toBeUndefined();
  });
});
