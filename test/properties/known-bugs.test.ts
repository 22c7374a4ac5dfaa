// Bugs the properties found that are still open, as minimal counterexamples.
// Each `it.fails` holds exactly the assertion that is wrong today (the sanity
// checks around it are ordinary tests), so it turns red — and wants its
// `.fails` removed, and the input given back to the generators — the day the
// bug is fixed. The properties leave these inputs out unless fuzzing with
// `npm run fuzz -- --known-bugs`.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';
import { checkExposure } from './properties.ts';
import { cidrMembership } from './packets.ts';

function simulatorFor(text: string) {
  const parsed = parse(text, { file: 'known-bug.txt' });
  expect(parsed.errors).toEqual([]);
  const ruleset = parsed.rulesets[0]!;
  return { ruleset, sim: createSimulator(ruleset, recogniseDocker(ruleset)) };
}

const ssh = (src: string): Packet => ({ family: 'ipv4', proto: 'tcp', src, dst: '203.0.113.10', sport: 40000, dport: 22, inInterface: 'dfw-other0', state: 'NEW' });

describe('exposure: a dotted mask with more than 16 free bits above its lowest set bit (src/model/addrset.ts AddressSet.masked)', () => {
  // {x : x & 0.0.0.255 = 0} is every x.y.z.0: 2^24 intervals, so AddressSet.masked falls back to
  // the mask's leading prefix (/0: everything) and exposure() lists every source, while the walk
  // (and the kernel) accept only the addresses ending in .0. Found by `npm run fuzz` (exposure-docker).
  const text = '*filter\n:INPUT DROP [0:0]\n-A INPUT -s 0.0.0.0/0.0.0.255 -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n';

  it('the walk accepts 198.51.100.0 and drops 198.51.100.7', () => {
    const { sim } = simulatorFor(text);
    expect(sim.trace(ssh('198.51.100.0')).verdict).toBe('accept');
    expect(sim.trace(ssh('198.51.100.7')).verdict).toBe('drop');
  });

  it.fails('exposure() does not list 198.51.100.7 (it says 0.0.0.0/0)', () => {
    const { sim } = simulatorFor(text);
    const entry = sim.exposure().host.find((e) => e.proto === 'tcp' && e.hostPort === 22);
    const exposed = cidrMembership('ipv4', entry?.reachableFrom.find((r) => r.interface === '*')?.sources ?? []);
    expect(exposed('198.51.100.7')).toBe(false);
  });

  it.fails('the exposure property on it', () => {
    checkExposure(simulatorFor(text).ruleset, 1, 40);
  });
});
