// Runs of rules that differ only by source are one membership test (src/sim/source-runs.ts):
// the walk must still name the first rule of the run that matches, as the kernel would meet it,
// and exposure must stay exact. Checked against a rule-by-rule reading of the same rules.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';
import { checkExposure } from '../properties/properties.ts';
import { addressText, addressValue, cidrMembership, matchBounds } from '../properties/packets.ts';

const filter = (...lines: string[]) => ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...lines, 'COMMIT', ''].join('\n');

function simulator(text: string) {
  const result = parse(text, { file: 'runs.txt' });
  expect(result.errors).toEqual([]);
  const ruleset = result.rulesets[0]!;
  return { ruleset, sim: createSimulator(ruleset, recogniseDocker(ruleset), { localAddresses: ['203.0.113.10'], externalInterfaces: ['eth0'] }) };
}

const ssh = (src: string, extra: Partial<Packet> = {}): Packet => ({
  family: 'ipv4', proto: 'tcp', src, dst: '203.0.113.10', sport: 40000, dport: 22, inInterface: 'eth0', state: 'NEW', ...extra,
});

/** Overlapping and nested sources, a negated one, out of address order. */
const SOURCES = [
  '10.0.0.0/24', '10.0.0.7/32', '192.0.2.0/25', '10.0.1.0/24', '! 172.16.0.0/12', '10.0.0.128/25', '192.0.2.64/26',
  '198.51.100.0/24', '10.0.0.0/16', '198.51.100.7/32',
];

/** The line of the first rule whose source holds `src`, reading the rules one by one. */
function firstLine(src: string, firstRuleLine: number): number | undefined {
  const value = addressValue('ipv4', src)!;
  const k = SOURCES.findIndex((s) => {
    const negated = s.startsWith('! ');
    const [address, prefix] = s.replace('! ', '').split('/') as [string, string];
    const [from, to] = matchBounds('ipv4', { address, prefixLength: Number(prefix) })!;
    return (value >= from && value <= to) !== negated;
  });
  return k < 0 ? undefined : firstRuleLine + k;
}

const probes = ['10.0.0.7', '10.0.0.8', '10.0.0.200', '10.0.1.1', '10.0.2.1', '172.16.0.1', '172.31.255.255', '172.32.0.0', '192.0.2.70', '192.0.2.1',
  '198.51.100.7', '198.51.100.8', '0.0.0.0', '255.255.255.255', '10.1.0.0'];

describe('a run of rules that differ only by source', () => {
  const rules = SOURCES.map((s) => `-A INPUT ${s.startsWith('! ') ? `! -s ${s.slice(2)}` : `-s ${s}`} -p tcp -m tcp --dport 22 -j DROP`);

  it('the walk stops at the first rule of the run holding the source, as rule by rule', () => {
    const { sim } = simulator(filter(...rules, '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'));
    for (const src of probes) {
      const line = firstLine(src, 5);
      const t = sim.trace(ssh(src));
      expect(t.verdict, src).toBe(line === undefined ? 'accept' : 'drop');
      if (line !== undefined) expect(t.steps.map((s) => `${s.line}:${s.action}`), src).toEqual([`${line}:drop`]);
    }
  });

  it('a packet the shared tests refuse passes the whole run', () => {
    const { sim } = simulator(filter(...rules, '-A INPUT -j REJECT'));
    expect(sim.trace(ssh('10.0.0.7', { dport: 80 })).steps.map((s) => s.line)).toEqual([5 + SOURCES.length]);
  });

  it('exposure agrees with the walk', () => {
    const { ruleset, sim } = simulator(filter(...rules, '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -j DROP'));
    const entry = sim.exposure().host.find((e) => e.proto === 'tcp' && e.hostPort === 22)!;
    const inside = cidrMembership('ipv4', entry.reachableFrom.find((r) => r.interface === 'eth0')!.sources);
    for (const src of probes) expect(inside(src), src).toBe(firstLine(src, 5) === undefined);
    checkExposure(ruleset, 1, 40);
  });

  it('in an indexed chain (a run keyed on its port among 60 other rules)', () => {
    const others = Array.from({ length: 60 }, (_, i) => `-A INPUT -p tcp -m tcp --dport ${1000 + i} -j ACCEPT`);
    const { sim } = simulator(filter(...others.slice(0, 30), ...rules, ...others.slice(30), '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'));
    for (const src of probes) {
      const line = firstLine(src, 35);
      expect(sim.trace(ssh(src)).steps.map((s) => s.line), src).toEqual([line ?? 5 + 60 + SOURCES.length]);
    }
  });

  it('an undecidable shared test is decided rule by rule (both outcomes explored)', () => {
    const undecidable = rules.map((r) => r.replace('-j DROP', '-m recent --rcheck --name bad -j DROP'));
    const { sim } = simulator(filter(...undecidable, '-A INPUT -j ACCEPT'));
    const t = sim.trace(ssh('10.0.0.7'));
    expect(t.verdict).toBe('unknown');
    expect(t.uncertain.map((u) => u.line)).toContain(5);
    expect(sim.trace(ssh('8.8.8.8')).uncertain.map((u) => u.line)).toEqual([9]);
    expect(sim.trace(ssh('172.16.0.1')).verdict).toBe('accept');
  });

  it('a blocklist of 2,000 sources is walked once per class, not once per class and rule', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `-A INPUT -s ${addressText('ipv4', 0x0a000000n + BigInt(i) * 3n)}/32 -j DROP`);
    const { sim } = simulator(filter(...many, '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -j DROP'));
    const entry = sim.exposure().host.find((e) => e.proto === 'tcp' && e.hostPort === 22)!;
    const inside = cidrMembership('ipv4', entry.reachableFrom.find((r) => r.interface === 'eth0')!.sources);
    expect([inside('10.0.0.0'), inside('10.0.0.1'), inside('10.0.0.3'), inside('10.0.23.109'), inside('10.0.23.110')]).toEqual([false, true, false, false, true]);
  });
});
