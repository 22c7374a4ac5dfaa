// Loopback destinations arriving on an ordinary device: what the kernel does
// (loopback/probe.py, in two throw-away namespaces) and what `trace` says.
// 127.0.0.1 passes PREROUTING (where a DNAT may still save it) and is then a
// martian destination at routing unless the device has route_localnet; ::1 is
// dropped before netfilter sees it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';
import { ORACLE_NETNS_PREFIX, ORACLE_PYTHON, oracleAvailable } from './oracle.ts';

const COUNTING = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 22\nCOMMIT\n'
  + '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22\nCOMMIT\n';

function simulator(text: string, family: 'ipv4' | 'ipv6') {
  const ruleset = parse(text, { file: 'loopback.txt', family }).rulesets[0]!;
  return createSimulator(ruleset, recogniseDocker(ruleset), { externalInterfaces: ['vh'] });
}

/** What the simulator's walk shows the way probe.py counts it: rules met in raw PREROUTING and filter INPUT. */
function counted(text: string, packet: Packet) {
  const trace = simulator(text, packet.family).trace(packet);
  const met = (table: string, hook: string) => trace.steps.filter((s) => s.table === table && s.hook === hook && s.position > 0).length;
  return { verdict: trace.verdict, prerouting: met('raw', 'PREROUTING'), input: met('filter', 'INPUT') };
}

const availability = oracleAvailable();
if (!availability.ok) console.log(`loopback destinations: kernel part skipped (${availability.reason})`);

describe('loopback destinations from another device', () => {
  it.runIf(availability.ok)('the kernel: 127.0.0.1 passes PREROUTING and stops at routing unless route_localnet; ::1 never reaches netfilter', () => {
    const run = spawnSync(ORACLE_PYTHON, [new URL('./loopback/probe.py', import.meta.url).pathname, `${ORACLE_NETNS_PREFIX}lb`], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      ipv4: { prerouting: 1, input: 0 },
      'ipv4-route-localnet': { prerouting: 1, input: 1 },
      ipv6: { prerouting: 0, input: 0 },
      'ipv6-own-address': { prerouting: 1, input: 1 },
    });
  });

  it('trace says the same', () => {
    const v4: Packet = { family: 'ipv4', proto: 'tcp', src: '203.0.113.50', dst: '127.0.0.1', sport: 40000, dport: 22, inInterface: 'vh' };
    expect(counted(COUNTING, v4)).toEqual({ verdict: 'drop', prerouting: 1, input: 0 });
    const v6: Packet = { family: 'ipv6', proto: 'tcp', src: '2001:db8:10::50', dst: '::1', sport: 40000, dport: 22, inInterface: 'vh' };
    expect(counted(COUNTING, v6)).toEqual({ verdict: 'drop', prerouting: 0, input: 0 });
    const own: Packet = { ...v6, dst: '2001:db8:10::10' };
    expect(counted(COUNTING, own)).toEqual({ verdict: 'accept', prerouting: 1, input: 1 });
    // From lo, 127.0.0.1 is delivered.
    expect(counted(COUNTING, { ...v4, inInterface: 'lo' })).toMatchObject({ verdict: 'accept', input: 1 });
  });

  it('Docker sets route_localnet on its bridges only with the userland proxy off', () => {
    const fromContainer: Packet = { family: 'ipv4', proto: 'tcp', src: '172.17.0.2', dst: '127.0.0.1', sport: 40000, dport: 9, inInterface: 'docker0' };
    const noProxy = readFileSync(new URL('../../corpus/docker-layouts/docker-27-userland-proxy-false.txt', import.meta.url), 'utf8');
    const withProxy = readFileSync(new URL('../../corpus/docker-layouts/docker-23-compose-stacks.txt', import.meta.url), 'utf8');
    expect(simulator(noProxy, 'ipv4').trace(fromContainer).reason).not.toMatch(/martian/);
    expect(simulator(withProxy, 'ipv4').trace(fromContainer).reason).toMatch(/martian destination/);
  });
});
