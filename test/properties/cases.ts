// Helpers for the minimal counterexamples in regressions.test.ts and known-bugs.test.ts.
import { expect } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator, type RulesetSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';
import { cidrMembership } from './packets.ts';

/** Parses a one-ruleset text (which must be clean) and builds its simulator. */
export function simulatorFor(text: string): { ruleset: ReturnType<typeof parse>['rulesets'][number]; sim: RulesetSimulator } {
  const parsed = parse(text, { file: 'case.txt' });
  expect(parsed.errors).toEqual([]);
  const ruleset = parsed.rulesets[0]!;
  return { ruleset, sim: createSimulator(ruleset, recogniseDocker(ruleset)) };
}

/** A new SSH connection to the host from `src`, arriving on "any other interface". */
export const ssh = (src: string): Packet => ({ family: 'ipv4', proto: 'tcp', src, dst: '203.0.113.10', sport: 40000, dport: 22, inInterface: 'dfw-other0', state: 'NEW' });

/** Sources exposure() says reach tcp/22 on the host from "any other interface". */
export function exposedSsh(sim: RulesetSimulator): (address: string) => boolean {
  const entry = sim.exposure().host.find((e) => e.proto === 'tcp' && e.hostPort === 22);
  return cidrMembership('ipv4', entry?.reachableFrom.find((r) => r.interface === '*')?.sources ?? []);
}
