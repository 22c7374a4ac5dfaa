// Throughput and self-consistency of the kernel oracle on random Docker-like rulesets x random
// probes, on both backends: every outcome and rule path must agree between iptables-nft and
// iptables-legacy. Opt-in (a few seconds of kernel work): DFO_BENCH=1 npx vitest run test/kernel/oracle
//   DFO_BENCH_RULESETS (20), DFO_BENCH_PROBES (500), DFO_BENCH_SEED (1),
//   DFO_BENCH_BACKENDS (all available, e.g. "nft"),
//   DFO_BENCH_OUT=file.json: write the batches and every backend's results (kernel ground truth)
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leftoverNamespaces, oracleAvailable, runOracle, type OracleBatch, type OracleProbe, type OracleRun, type OracleTopology } from '../oracle.ts';

const enabled = process.env.DFO_BENCH === '1';
const availability = enabled ? oracleAvailable() : ({ ok: false, reason: 'set DFO_BENCH=1' } as const);
const RULESETS = Number(process.env.DFO_BENCH_RULESETS ?? 20);
const PROBES = Number(process.env.DFO_BENCH_PROBES ?? 500);
const SEED = Number(process.env.DFO_BENCH_SEED ?? 1);
const BASE = readFileSync(new URL('./fixtures/docker-two-networks.rules', import.meta.url), 'utf8');

const topology: OracleTopology = {
  hostInterfaces: [{ name: 'eth0', address: '203.0.113.10/24' }],
  bridges: [
    { name: 'docker0', address: '172.17.0.1/16', containers: ['172.17.0.2', '172.17.0.3'] },
    { name: 'br-1a2b3c4d5e6f', address: '172.18.0.1/16', containers: ['172.18.0.2'] },
  ],
  externalClients: [{ interface: 'eth0', addresses: ['203.0.113.50/24', '198.51.100.7/32'], routes: ['192.0.2.0/24'] }],
  listen: { tcp: [80, 22], udp: [53] },
};

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const MATCHES = [
  '-i eth0', '! -i eth0', '-o docker0', '-s 198.51.100.0/24', '! -s 198.51.100.0/24', '-s 203.0.113.50/32', '-d 172.17.0.2/32',
  '-p tcp -m tcp --dport 80', '-p tcp -m tcp --dport 8080', '-p udp -m udp --dport 53', '-p tcp -m conntrack --ctorigdstport 8080',
  '-p udp -m conntrack --ctorigdstport 5353', '-m conntrack --ctstate NEW', '-m conntrack --ctstate RELATED,ESTABLISHED', '-p icmp',
  '-p tcp -m multiport --dports 22,80,443', '-m addrtype --dst-type LOCAL', '-m iprange --src-range 192.0.2.1-192.0.2.100',
];
const TARGETS = ['-j DROP', '-j RETURN', '-j ACCEPT', '-j REJECT', '-j REJECT --reject-with tcp-reset', '-j LOG --log-prefix x'];

function ruleset(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const rule = (chain: string) => {
    const ms: string[] = [];
    const kinds = new Set<string>();
    for (let i = 0, n = pick([1, 1, 2, 3]); i < n; i++) {
      const m = pick(MATCHES.filter((x) => !(chain === 'INPUT' && x.includes('-o '))));
      const kind = m.includes('--ctstate') ? 'ctstate' : (m.replace(/^! /, '').split(' ')[0] ?? '');
      if (!kinds.has(kind)) (kinds.add(kind), ms.push(m));
    }
    ms.sort((a, b) => Number(!a.startsWith('-p ')) - Number(!b.startsWith('-p ')));
    let t = pick(TARGETS);
    if (t.includes('tcp-reset') && !ms.some((m) => m.startsWith('-p tcp'))) t = '-j REJECT';
    if (chain === 'INPUT' && t === '-j RETURN') t = '-j DROP';
    return `-A ${chain} ${ms.join(' ')} ${t}`;
  };
  const lines = BASE.split('\n');
  const user = Array.from({ length: Math.floor(r() * 5) }, () => rule('DOCKER-USER'));
  lines.splice(lines.indexOf('-A DOCKER-USER -j RETURN'), 0, ...user);
  const input = Array.from({ length: Math.floor(r() * 3) }, () => rule('INPUT'));
  lines.splice(lines.indexOf('-A FORWARD -j DOCKER-USER'), 0, ...input);
  let text = lines.join('\n');
  if (r() < 0.3) text = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP\nCOMMIT\n${text}`;
  return text;
}

function probes(r: () => number, n: number): OracleProbe[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: OracleProbe[] = [];
  for (let i = 0; i < n; i++) {
    const proto = pick(['tcp', 'tcp', 'tcp', 'udp', 'icmp'] as const);
    const dport = proto === 'icmp' ? undefined : pick(proto === 'tcp' ? [80, 8080, 22, 443] : [53, 5353]);
    const from = pick(['ext', 'ext', 'ext', 'container', 'host'] as const);
    if (from === 'ext') {
      out.push({ id: i, from: { kind: 'ext', interface: 'eth0' }, proto, src: pick(['203.0.113.50', '198.51.100.7', '192.0.2.9']),
        dst: pick(['203.0.113.10', '172.17.0.2', '172.17.0.1', '172.18.0.2']), ...(dport ? { dport } : {}) });
    } else if (from === 'container') {
      const src = pick(['172.17.0.2', '172.17.0.3', '172.18.0.2']);
      out.push({ id: i, from: { kind: 'container', address: src }, proto, src,
        dst: pick(['198.51.100.7', '203.0.113.10', '172.17.0.2', '172.17.0.3', '172.18.0.2', '172.17.0.1']), ...(dport ? { dport } : {}) });
    } else {
      out.push({ id: i, from: { kind: 'host' }, proto, src: pick(['203.0.113.10', '172.17.0.1']),
        dst: pick(['172.17.0.2', '203.0.113.10', '198.51.100.7', '172.18.0.2']), ...(dport ? { dport } : {}) });
    }
  }
  return out;
}

describe.skipIf(!enabled || !availability.ok)('kernel oracle bench', () => {
  it(`${RULESETS} rulesets x ${PROBES} probes on every backend, nft and legacy agree`, async () => {
    const r = rng(SEED);
    const batches: OracleBatch[] = Array.from({ length: RULESETS }, () => ({ ruleset: ruleset(r), probes: probes(r, PROBES) }));
    const wanted = process.env.DFO_BENCH_BACKENDS?.split(/[ ,]+/);
    const backends = (availability.ok ? availability.backends : []).filter((b) => !wanted || wanted.includes(b));
    const t0 = performance.now();
    const runs: OracleRun[] = await Promise.all(backends.map((backend) => runOracle({ topology, backend, batches })));
    const wall = performance.now() - t0;
    if (process.env.DFO_BENCH_OUT) writeFileSync(process.env.DFO_BENCH_OUT, JSON.stringify({ topology, batches, runs }));
    for (const run of runs) {
      const ok = run.batches.filter((b) => b.ok);
      const sum = (k: 'loadMs' | 'indexMs' | 'sendWaitMs' | 'traceMs' | 'totalMs') => ok.reduce((s, b) => s + (b.ok ? b.stats[k] : 0), 0);
      const overruns = ok.reduce((s, b) => s + (b.ok ? b.stats.traceOverruns : 0), 0);
      const replies: Record<string, number> = {};
      for (const b of ok) for (const x of b.results) replies[String(x.reply)] = (replies[String(x.reply)] ?? 0) + 1;
      console.log(`${run.backend}: setup ${run.setupMs.toFixed(0)} ms, total ${run.totalMs.toFixed(0)} ms; per batch sums: load ${sum('loadMs').toFixed(0)}, index ${sum('indexMs').toFixed(0)}, send+wait ${sum('sendWaitMs').toFixed(0)}, trace ${sum('traceMs').toFixed(0)} ms; overruns ${overruns}; ${ok.length}/${run.batches.length} batches ok; replies ${JSON.stringify(replies)}`);
      expect(ok.length).toBe(run.batches.length);
      expect(overruns).toBe(0);
    }
    console.log(`wall (backends in parallel): ${wall.toFixed(0)} ms`);
    if (runs.length === 2) {
      const [a, b] = runs as [OracleRun, OracleRun];
      let verdicts = 0;
      let paths = 0;
      let shown = 0;
      a.batches.forEach((ba, i) => {
        const bb = b.batches[i];
        if (!ba.ok || !bb?.ok) return;
        ba.results.forEach((ra, j) => {
          const rb = bb.results[j];
          if (!rb) return;
          const v = JSON.stringify([ra.reply, ra.delivered]) !== JSON.stringify([rb.reply, rb.delivered]);
          const norm = (x: typeof ra) => JSON.stringify(x.trace.map((e) => [e.table, e.hook, e.chain, e.position, e.verdict]));
          const p = norm(ra) !== norm(rb);
          verdicts += Number(v);
          paths += Number(p);
          if ((v || p) && shown++ < 3) console.log(JSON.stringify({ batch: i, probe: batches[i]?.probes[j], nft: ra, legacy: rb }, null, 1));
        });
      });
      console.log(`nft vs legacy: ${RULESETS * PROBES} probes, ${verdicts} outcome differences, ${paths} rule-path differences`);
      expect([verdicts, paths]).toEqual([0, 0]);
    }
    expect(leftoverNamespaces()).toEqual([]);
  }, 300_000);
});
