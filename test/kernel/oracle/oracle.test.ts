// Smoke test of the kernel oracle: known facts about how Linux netfilter treats a Docker host,
// reproduced on the real kernel (nft backend, and legacy where the kernel has it), with outcomes
// and rule paths. Needs root; skips with one line otherwise.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ORACLE_NETNS_PREFIX,
  leftoverNamespaces,
  oracleAvailable,
  runOracle,
  type OracleBackend,
  type OracleBatch,
  type OracleProbe,
  type OracleProbeResult,
  type OracleRun,
  type OracleTopology,
  type OracleTraceEvent,
} from '../oracle.ts';

const availability = oracleAvailable();
if (!availability.ok) console.log(`kernel oracle: skipped (${availability.reason})`);
const backends: readonly OracleBackend[] = availability.ok ? availability.backends : [];
if (availability.ok && availability.legacyReason) console.log(`kernel oracle: legacy backend skipped (${availability.legacyReason})`);

const BASE = readFileSync(new URL('./fixtures/docker-two-networks.rules', import.meta.url), 'utf8');
const BR = 'br-1a2b3c4d5e6f';

const topology: OracleTopology = {
  family: 'ipv4',
  hostInterfaces: [{ name: 'eth0', address: '203.0.113.10/24' }],
  bridges: [
    { name: 'docker0', address: '172.17.0.1/16', containers: ['172.17.0.2'], hairpin: true },
    { name: BR, address: '172.18.0.1/16', containers: ['172.18.0.2'] },
  ],
  externalClients: [{ interface: 'eth0', addresses: ['203.0.113.50/24', '198.51.100.7/32'] }],
  listen: { tcp: [80, 22], udp: [53] },
};

/** The ruleset with `lines` inserted before the first line equal to `anchor`. */
function insertBefore(anchor: string, ...lines: string[]): string {
  const at = BASE.split('\n').indexOf(anchor);
  if (at < 0) throw new Error(`anchor not found: ${anchor}`);
  const out = BASE.split('\n');
  out.splice(at, 0, ...lines);
  return out.join('\n');
}

function addRawTable(...lines: string[]): string {
  return `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n${BASE}`;
}

const ext = { kind: 'ext', interface: 'eth0' } as const;
const published8080: OracleProbe = { id: 'published-8080', from: ext, proto: 'tcp', src: '203.0.113.50', dst: '203.0.113.10', dport: 8080 };
const published5353: OracleProbe = { id: 'published-5353', from: ext, proto: 'udp', src: '198.51.100.7', dst: '203.0.113.10', dport: 5353 };
const direct80: OracleProbe = { id: 'direct-80', from: ext, proto: 'tcp', src: '203.0.113.50', dst: '172.17.0.2', dport: 80 };
const hostSsh: OracleProbe = { id: 'host-22', from: ext, proto: 'tcp', src: '203.0.113.50', dst: '203.0.113.10', dport: 22 };
const ping: OracleProbe = { id: 'ping', from: ext, proto: 'icmp', src: '203.0.113.50', dst: '203.0.113.10' };
const egress: OracleProbe = { id: 'egress', from: { kind: 'container', address: '172.17.0.2' }, proto: 'tcp', src: '172.17.0.2', dst: '198.51.100.7', dport: 443 };
const crossNetwork: OracleProbe = { id: 'db-to-web', from: { kind: 'container', address: '172.18.0.2' }, proto: 'tcp', src: '172.18.0.2', dst: '172.17.0.2', dport: 80 };
const selfViaPublished: OracleProbe = { id: 'self-via-8080', from: { kind: 'container', address: '172.17.0.2' }, proto: 'tcp', src: '172.17.0.2', dst: '203.0.113.10', dport: 8080 };
const fromHost8080: OracleProbe = { id: 'host-to-8080', from: { kind: 'host' }, proto: 'tcp', src: '203.0.113.10', dst: '203.0.113.10', dport: 8080 };

const batches = {
  base: { ruleset: BASE, probes: [published8080, published5353, direct80, hostSsh, ping, egress, crossNetwork, fromHost8080] },
  dportInDockerUser: {
    ruleset: insertBefore('-A DOCKER-USER -j RETURN', '-A DOCKER-USER -p tcp -m tcp --dport 8080 -j DROP'),
    probes: [published8080],
  },
  ctorigdstport: {
    ruleset: insertBefore('-A DOCKER-USER -j RETURN', '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP'),
    probes: [published8080, direct80],
  },
  rawDrop: { ruleset: addRawTable(`-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP`), probes: [direct80, published8080] },
  reject: {
    ruleset: insertBefore(
      '-A DOCKER-USER -j RETURN',
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j REJECT --reject-with tcp-reset',
      '-A DOCKER-USER -p udp -m conntrack --ctorigdstport 5353 -j REJECT --reject-with icmp-port-unreachable',
    ),
    probes: [published8080, published5353],
  },
  // --userland-proxy=false: no `-i docker0 -j RETURN`, DNAT from the bridge too, hairpin MASQUERADE
  hairpin: {
    ruleset: BASE.replace('-A DOCKER -i docker0 -j RETURN\n', '')
      .replace('-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080', '-A DOCKER -p tcp -m tcp --dport 8080')
      .replace('-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE'),
    probes: [selfViaPublished],
  },
  hairpinWithoutMasquerade: {
    ruleset: BASE.replace('-A DOCKER -i docker0 -j RETURN\n', '').replace('-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080', '-A DOCKER -p tcp -m tcp --dport 8080'),
    probes: [selfViaPublished],
  },
  broken: { ruleset: insertBefore('-A DOCKER-USER -j RETURN', '-A DOCKER-USER -j NO-SUCH-CHAIN'), probes: [published8080] },
  afterBroken: { ruleset: BASE, probes: [published8080] },
} satisfies Record<string, OracleBatch>;
type BatchName = keyof typeof batches;

// IPv6: the same host, dual stack, with the ip6tables half of the ruleset
const BASE6 = readFileSync(new URL('./fixtures/docker-dual-stack.rules6', import.meta.url), 'utf8');
const dualTopology: OracleTopology = {
  family: 'dual',
  hostInterfaces: [{ name: 'eth0', addresses: ['203.0.113.10/24', '2001:db8:1::10/64'] }],
  bridges: [{ name: 'docker0', addresses: ['172.17.0.1/16', 'fd00:dead:beef::1/64'], containers: [['172.17.0.2', 'fd00:dead:beef::2']] }],
  externalClients: [{ interface: 'eth0', addresses: ['203.0.113.50/24', '2001:db8:1::50/64', '2001:db8:ffff::7/128'] }],
  listen: { tcp: [80, 22], udp: [53] },
};
const v6probes: OracleProbe[] = [
  { id: 'v6-published-8080', from: ext, proto: 'tcp', src: '2001:db8:1::50', dst: '2001:db8:1::10', dport: 8080 },
  { id: 'v6-published-5353', from: ext, proto: 'udp', src: '2001:db8:ffff::7', dst: '2001:db8:1::10', dport: 5353 },
  { id: 'v6-ping', from: ext, proto: 'icmp', src: '2001:db8:1::50', dst: '2001:db8:1::10' },
  { id: 'v6-closed-udp', from: ext, proto: 'udp', src: '2001:db8:1::50', dst: '2001:db8:1::10', dport: 9999 },
  { id: 'v6-egress', from: { kind: 'container', address: 'fd00:dead:beef::2' }, proto: 'tcp', src: 'fd00:dead:beef::2', dst: '2001:db8:ffff::7', dport: 443 },
  { ...published8080, id: 'v4-published-8080' },
];
const v6batches: OracleBatch[] = [
  { ruleset: BASE, ruleset6: BASE6, probes: v6probes },
  {
    ruleset: BASE,
    ruleset6: BASE6.replace('-A DOCKER-USER -j RETURN', '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP\n-A DOCKER-USER -j RETURN'),
    probes: v6probes.slice(0, 1),
  },
];
const v6runs = new Map<OracleBackend, OracleRun>();

const runs = new Map<OracleBackend, OracleRun>();
const leftAfterRun: string[] = [];
const ev = (table: string, hook: string, chain: string, position: number, verdict: string) => ({ table, hook, chain, position, verdict });
const path = (r: OracleProbeResult) => r.trace.map(({ table, hook, chain, position, verdict }: OracleTraceEvent) => ev(table, hook, chain, position, verdict));

describe.skipIf(!availability.ok)('kernel oracle', () => {
  beforeAll(async () => {
    const names = Object.keys(batches) as BatchName[];
    // one topology per backend (legacy tables cannot be removed from a namespace), in parallel
    await Promise.all([
      ...backends.map(async (backend) => {
        runs.set(backend, await runOracle({ topology, backend, batches: names.map((n) => batches[n]) }));
      }),
      ...backends.map(async (backend) => {
        v6runs.set(backend, await runOracle({ topology: dualTopology, backend, batches: v6batches }));
      }),
    ]);
    leftAfterRun.push(...leftoverNamespaces());
  }, 60_000);

  afterAll(() => {
    // whatever happened above: nothing of ours may stay behind
    expect(leftoverNamespaces()).toEqual([]);
  });

  function result(backend: OracleBackend, batch: BatchName, id: string): OracleProbeResult {
    const run = runs.get(backend);
    if (!run) throw new Error(`no ${backend} run`);
    const b = run.batches[(Object.keys(batches) as BatchName[]).indexOf(batch)];
    if (!b?.ok) throw new Error(`batch ${batch} failed: ${b ? (b as { error: string }).error : 'missing'}`);
    const r = b.results.find((x) => x.id === id);
    if (!r) throw new Error(`no result for ${id}`);
    return r;
  }

  describe.each(backends.map((b) => [b] as const))('%s backend', (backend) => {
    it('an INPUT drop of tcp/8080 does not stop the published 8080 -> 172.17.0.2:80', () => {
      const r = result(backend, 'base', 'published-8080');
      expect(r.reply).toBe('synack');
      expect(r.delivered).toMatchObject({ where: 'container', namespace: 'container:172.17.0.2', dst: '172.17.0.2', dport: 80 });
      expect(path(r)).toEqual([
        ev('nat', 'PREROUTING', 'PREROUTING', 1, 'JUMP:DOCKER'),
        ev('nat', 'PREROUTING', 'DOCKER', 3, 'DNAT'),
        ev('filter', 'FORWARD', 'FORWARD', 1, 'JUMP:DOCKER-USER'),
        ev('filter', 'FORWARD', 'DOCKER-USER', 1, 'RETURN'),
        ev('filter', 'FORWARD', 'FORWARD', 2, 'JUMP:DOCKER-ISOLATION-STAGE-1'),
        ev('filter', 'FORWARD', 'DOCKER-ISOLATION-STAGE-1', 3, 'RETURN'),
        ev('filter', 'FORWARD', 'FORWARD', 8, 'JUMP:DOCKER'),
        ev('filter', 'FORWARD', 'DOCKER', 1, 'ACCEPT'),
        ev('nat', 'POSTROUTING', 'POSTROUTING', 0, 'POLICY:ACCEPT'),
      ]);
      expect(r.trace[1]?.rule).toBe('-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80');
      expect(r.trace[2]?.packet).toMatch(/^tcp 203\.0\.113\.50:\d+ > 172\.17\.0\.2:80$/);
    });

    it('the rest of the base ruleset: udp publish, direct access, host ports, egress, isolation', () => {
      const udp = result(backend, 'base', 'published-5353');
      expect(udp.reply).toBe('udp');
      expect(udp.delivered).toMatchObject({ where: 'container', src: '198.51.100.7', dst: '172.17.0.2', dport: 53 });
      // a router one hop away reaches the container directly (pre-28 Docker): no nat hop at all
      const direct = result(backend, 'base', 'direct-80');
      expect(direct.reply).toBe('synack');
      expect(direct.delivered.where).toBe('container');
      expect(direct.trace.some((e) => e.table === 'nat' && e.verdict === 'DNAT')).toBe(false);
      expect(path(direct)).toContainEqual(ev('filter', 'FORWARD', 'DOCKER', 1, 'ACCEPT'));
      const ssh = result(backend, 'base', 'host-22');
      expect(ssh.reply).toBe('synack');
      expect(ssh.delivered).toMatchObject({ where: 'host', namespace: 'host', dport: 22 });
      expect(path(ssh).at(-1)).toEqual(ev('filter', 'INPUT', 'INPUT', 0, 'POLICY:ACCEPT'));
      expect(result(backend, 'base', 'ping')).toMatchObject({ reply: 'echo-reply', delivered: { where: 'host' } });
      const out = result(backend, 'base', 'egress');
      expect(out.reply).toBe('rst'); // the external client's kernel answers: the packet got out
      expect(out.delivered).toMatchObject({ where: 'ext', namespace: 'ext:eth0', src: '203.0.113.10', dport: 443 });
      expect(path(out).at(-1)).toEqual(ev('nat', 'POSTROUTING', 'POSTROUTING', 2, 'MASQUERADE'));
      const cross = result(backend, 'base', 'db-to-web');
      expect(cross).toMatchObject({ reply: null, delivered: { where: null } });
      expect(path(cross).at(-1)).toEqual(ev('filter', 'FORWARD', 'DOCKER-ISOLATION-STAGE-2', 2, 'DROP'));
      // the host's own connection to its published port: nat OUTPUT DNAT, never FORWARD or INPUT
      const local = result(backend, 'base', 'host-to-8080');
      expect(local.reply).toBe('synack');
      expect(local.delivered).toMatchObject({ where: 'container', dst: '172.17.0.2', dport: 80 });
      expect(path(local)).toContainEqual(ev('nat', 'OUTPUT', 'DOCKER', 3, 'DNAT'));
      expect(local.trace.some((e) => e.hook === 'FORWARD' || e.hook === 'INPUT')).toBe(false);
    });

    it('DOCKER-USER --dport 8080 never matches: the port is already 80 after DNAT', () => {
      const r = result(backend, 'dportInDockerUser', 'published-8080');
      expect(r.reply).toBe('synack');
      expect(r.delivered.where).toBe('container');
      expect(r.trace.some((e) => e.chain === 'DOCKER-USER' && e.position === 1)).toBe(false);
      expect(path(r)).toContainEqual(ev('filter', 'FORWARD', 'DOCKER-USER', 2, 'RETURN'));
    });

    it('DOCKER-USER --ctorigdstport 8080 drops the published port, not direct access', () => {
      const r = result(backend, 'ctorigdstport', 'published-8080');
      expect(r).toMatchObject({ reply: null, delivered: { where: null } });
      expect(path(r).at(-1)).toEqual(ev('filter', 'FORWARD', 'DOCKER-USER', 1, 'DROP'));
      expect(result(backend, 'ctorigdstport', 'direct-80')).toMatchObject({ reply: 'synack', delivered: { where: 'container' } });
    });

    it('a raw PREROUTING drop of the container address blocks direct access, not the published port', () => {
      const direct = result(backend, 'rawDrop', 'direct-80');
      expect(direct).toMatchObject({ reply: null, delivered: { where: null } });
      expect(path(direct)).toEqual([ev('raw', 'PREROUTING', 'PREROUTING', 1, 'DROP')]);
      const published = result(backend, 'rawDrop', 'published-8080');
      expect(published).toMatchObject({ reply: 'synack', delivered: { where: 'container', dport: 80 } });
      // raw runs before nat: the probe still has the host address there, so the rule misses
      expect(path(published).slice(0, 2)).toEqual([
        ev('raw', 'PREROUTING', 'PREROUTING', 0, 'POLICY:ACCEPT'),
        ev('nat', 'PREROUTING', 'PREROUTING', 1, 'JUMP:DOCKER'),
      ]);
    });

    it('REJECT answers with a RST / an ICMP port unreachable and delivers nothing', () => {
      const tcp = result(backend, 'reject', 'published-8080');
      expect(tcp).toMatchObject({ reply: 'rst', delivered: { where: null } });
      expect(path(tcp).at(-1)).toEqual(ev('filter', 'FORWARD', 'DOCKER-USER', 1, 'REJECT'));
      const udp = result(backend, 'reject', 'published-5353');
      expect(udp).toMatchObject({ reply: 'icmp-3-3', delivered: { where: null } });
      expect(path(udp).at(-1)).toEqual(ev('filter', 'FORWARD', 'DOCKER-USER', 2, 'REJECT'));
    });

    it('hairpin: a container reaches itself through its published port only with the hairpin MASQUERADE', () => {
      const r = result(backend, 'hairpin', 'self-via-8080');
      expect(r.reply).toBe('synack');
      expect(r.delivered).toMatchObject({ where: 'container', namespace: 'container:172.17.0.2', src: '172.17.0.1', dst: '172.17.0.2', dport: 80 });
      expect(path(r)[0]).toEqual(ev('nat', 'PREROUTING', 'PREROUTING', 1, 'JUMP:DOCKER'));
      expect(path(r).at(-1)).toEqual(ev('nat', 'POSTROUTING', 'POSTROUTING', 3, 'MASQUERADE'));
      // without it the packet comes back with the container's own address as source: a martian
      // its stack drops, although netfilter accepted it and it arrived on the container's interface
      const martian = result(backend, 'hairpinWithoutMasquerade', 'self-via-8080');
      expect(martian).toMatchObject({ reply: null, delivered: { where: null } });
      expect(path(martian)).toContainEqual(ev('filter', 'FORWARD', 'FORWARD', 10, 'ACCEPT'));
    });

    it('a ruleset the kernel refuses is reported, and the next batch runs normally', () => {
      const run = runs.get(backend);
      const names = Object.keys(batches) as BatchName[];
      const broken = run?.batches[names.indexOf('broken')];
      expect(broken?.ok).toBe(false);
      expect(broken && !broken.ok ? broken.error : '').toMatch(/restore/);
      expect(result(backend, 'afterBroken', 'published-8080').reply).toBe('synack');
    });
  });

  describe.each(backends.map((b) => [b] as const))('IPv6, dual stack, %s backend', (backend) => {
    function v6(batch: number, id: string): OracleProbeResult {
      const b = v6runs.get(backend)?.batches[batch];
      if (!b?.ok) throw new Error(`IPv6 batch ${batch} failed: ${b && !b.ok ? b.error : 'missing'}`);
      const r = b.results.find((x) => x.id === id);
      if (!r) throw new Error(`no result for ${id}`);
      return r;
    }

    it('ip6tables: the published port bypasses INPUT too, ICMPv6 answers come back', () => {
      const r = v6(0, 'v6-published-8080');
      expect(r.reply).toBe('synack');
      expect(r.delivered).toMatchObject({ where: 'container', namespace: 'container:172.17.0.2', dst: 'fd00:dead:beef::2', dport: 80 });
      expect(path(r).slice(0, 2)).toEqual([ev('nat', 'PREROUTING', 'PREROUTING', 1, 'JUMP:DOCKER'), ev('nat', 'PREROUTING', 'DOCKER', 2, 'DNAT')]);
      expect(r.trace.some((e) => e.hook === 'INPUT')).toBe(false);
      expect(r.trace[2]?.packet).toMatch(/^tcp \[2001:db8:1::50\]:\d+ > \[fd00:dead:beef::2\]:80$/);
      expect(v6(0, 'v6-published-5353')).toMatchObject({ reply: 'udp', delivered: { where: 'container', dport: 53 } });
      expect(v6(0, 'v6-ping')).toMatchObject({ reply: 'echo-reply', delivered: { where: 'host' } });
      expect(v6(0, 'v6-closed-udp')).toMatchObject({ reply: 'icmp6-1-4', delivered: { where: 'host', dport: 9999 } });
      const out = v6(0, 'v6-egress');
      expect(out).toMatchObject({ reply: 'rst', delivered: { where: 'ext', src: '2001:db8:1::10' } });
      expect(path(out).at(-1)).toEqual(ev('nat', 'POSTROUTING', 'POSTROUTING', 1, 'MASQUERADE'));
      expect(v6(0, 'v4-published-8080')).toMatchObject({ reply: 'synack', delivered: { where: 'container', dst: '172.17.0.2' } });
    });

    it('ip6tables: DOCKER-USER --ctorigdstport 8080 drops the published port', () => {
      const r = v6(1, 'v6-published-8080');
      expect(r).toMatchObject({ reply: null, delivered: { where: null } });
      expect(path(r).at(-1)).toEqual(ev('filter', 'FORWARD', 'DOCKER-USER', 1, 'DROP'));
    });
  });

  it('nft and legacy agree on every probe (outcome and rule path)', () => {
    const nft = runs.get('nft');
    const legacy = runs.get('legacy');
    if (!nft || !legacy) return;
    const strip = (run: OracleRun) => run.batches.map((b) => (b.ok ? b.results.map((r) => ({ ...r, trace: path(r) })) : 'error'));
    expect(strip(legacy)).toEqual(strip(nft));
    const nft6 = v6runs.get('nft');
    const legacy6 = v6runs.get('legacy');
    if (nft6 && legacy6) expect(strip(legacy6)).toEqual(strip(nft6));
  });

  it('leaves no namespace behind', () => {
    expect(leftAfterRun).toEqual([]);
    const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(listed.split('\n').filter((l) => l.startsWith(ORACLE_NETNS_PREFIX))).toEqual([]);
  });
});
