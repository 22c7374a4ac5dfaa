// Section "analysis": exposure, trace and full lint on the generated rulesets.
//
// - exposure: parse + Docker model + simulator + exposure(), in a fresh child per run (cold, as the CLI).
// - trace: 10,000 trace() queries against the 170k-rule ruleset after parsing; median per query.
// - lint: the bundled CLI on the file (all rules, JSON output), wall time including start-up.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { writeBenchFiles } from '../gen/index.mjs';
import { fmt, summarize, target } from './report.mjs';

const EXPOSURE_LIMIT_MS = 1500;
const TRACE_LIMIT_MS = 1;
const LINT_LIMIT_MS = 2000;

const EXPOSURE_CHILD = `
import { readFileSync } from 'node:fs';
const [bundleUrl, file] = process.argv.slice(1);
const lib = await import(bundleUrl);
const started = performance.now();
const text = readFileSync(file, 'utf8');
const { rulesets } = lib.parse(text, { file });
const parsedAt = performance.now();
let entries = 0;
for (const ruleset of rulesets) {
  const docker = lib.recogniseDocker(ruleset);
  const exposure = lib.createSimulator(ruleset, docker, {}).exposure();
  entries += exposure.published.length + exposure.direct.length + exposure.host.length;
}
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, parseMs: parsedAt - started, entries, peakRss: process.resourceUsage().maxRSS * 1024 }));
`;

const TRACE_CHILD = `
import { readFileSync } from 'node:fs';
const [bundleUrl, file, countText] = process.argv.slice(1);
const lib = await import(bundleUrl);
const { rulesets } = lib.parse(readFileSync(file, 'utf8'), { file });
const ruleset = rulesets[0];
const sim = lib.createSimulator(ruleset, lib.recogniseDocker(ruleset), {});
// Destinations the ruleset names (cluster IPs, node ports) and random ones, deterministic.
const destinations = [];
for (const table of ruleset.tables) for (const chain of table.chains) for (const rule of chain.rules) {
  const port = rule.matches.find((m) => m.kind === 'tcp' && m.dport)?.dport?.ranges[0]?.from;
  if (rule.destination && rule.destination.prefixLength === 32 && port) destinations.push([rule.destination.address, port]);
}
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const count = Number(countText);
const packets = [];
for (let i = 0; i < count; i++) {
  const [dst, dport] = destinations.length > 0 && random() < 0.8 ? destinations[Math.floor(random() * destinations.length)] : ['203.0.113.' + (1 + Math.floor(random() * 200)), 1 + Math.floor(random() * 65000)];
  packets.push({ family: 'ipv4', proto: 'tcp', src: '198.51.100.' + (1 + Math.floor(random() * 250)), dst, dport, inInterface: 'eth0' });
}
for (let i = 0; i < 200; i++) sim.trace(packets[i % packets.length]);
const batches = [];
const batch = 500;
for (let i = 0; i < count; i += batch) {
  const t0 = performance.now();
  for (let j = i; j < Math.min(count, i + batch); j++) sim.trace(packets[j]);
  batches.push((performance.now() - t0) / Math.min(batch, count - i));
}
batches.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ medianMs: batches[Math.floor(batches.length / 2)], minMs: batches[0], maxMs: batches[batches.length - 1], queries: count }));
`;

/** Runs node with args; resolves { code, stdout } (the CLI exits 1 on findings, which is no failure here). */
function spawnNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A measuring child: exit 0 and one JSON object on stdout. */
async function runChild(args) {
  const { code, stdout, stderr } = await spawnNode(args);
  if (code === 0 && stdout.trim().startsWith('{')) return JSON.parse(stdout);
  throw new Error(`child exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
}

async function timeCli(cli, file) {
  const started = performance.now();
  const result = await spawnNode([cli, '--format', 'json', '--failure-threshold', 'none', file]);
  const ms = performance.now() - started;
  let findings = null;
  try { findings = JSON.parse(result.stdout).findings?.length ?? null; } catch { /* not JSON */ }
  return { ms, code: result.code, findings };
}

export const analysisSection = {
  name: 'analysis',
  title: 'Analysis: exposure, trace and lint',
  async run({ root, cacheDir, runs, log }) {
    const bundle = `${root}/dist/index.mjs`;
    const cli = `${root}/dist/cli.mjs`;
    if (!existsSync(bundle) || !existsSync(cli)) return { rows: [], notes: ['dist/ missing: run node scripts/build.mjs'], targets: [] };
    const files = writeBenchFiles(cacheDir, { log });
    const byName = Object.fromEntries(files.map((f) => [f.name, f]));
    const rows = [];
    const targets = [];
    const measured = {};
    /** `runs` measurements of one thing: their summary and the last result (for its details). */
    const repeat = async (label, measure) => {
      const times = [];
      let last;
      for (let i = 0; i < runs; i++) {
        log(`analysis: ${label} run ${i + 1}/${runs}`);
        last = await measure();
        times.push(last.ms);
      }
      return { s: summarize(times), last };
    };
    for (const name of ['docker-500.txt', 'kube-170k.txt']) {
      const file = byName[name];
      if (!file) continue;
      const { s, last } = await repeat(`exposure ${name}`, () => runChild(['--input-type=module', '-e', EXPOSURE_CHILD, pathToFileURL(bundle).href, file.path]));
      measured[`exposure:${name}`] = { ...s, entries: last.entries, parseMs: last.parseMs, peakRss: last.peakRss };
      rows.push({ what: `exposure ${name} (incl. parse)`, median: fmt.ms(s.median), min: fmt.ms(s.min), max: fmt.ms(s.max), detail: `${last.entries} entries; parse ${fmt.ms(last.parseMs)}; peak RSS ${fmt.mb(last.peakRss)}` });
      targets.push(target(`exposure ${name} incl. parse`, s.median, EXPOSURE_LIMIT_MS, { unit: 'ms' }));
    }
    if (byName['kube-170k.txt']) {
      log('analysis: 10,000 traces on kube-170k');
      const t = await runChild(['--input-type=module', '-e', TRACE_CHILD, pathToFileURL(bundle).href, byName['kube-170k.txt'].path, '10000']);
      measured.trace = t;
      rows.push({ what: 'trace on kube-170k (per query, after parse)', median: fmt.ms(t.medianMs), min: fmt.ms(t.minMs), max: fmt.ms(t.maxMs), detail: `${t.queries} queries, median of batches of 500` });
      targets.push(target('single trace on kube-170k', t.medianMs, TRACE_LIMIT_MS, { unit: 'ms' }));
    }
    for (const name of ['docker-500.txt', 'kube-170k.txt']) {
      const file = byName[name];
      if (!file) continue;
      const { s, last } = await repeat(`lint ${name}`, () => timeCli(cli, file.path));
      measured[`lint:${name}`] = { ...s, findings: last.findings, exitCode: last.code };
      rows.push({ what: `lint ${name} (CLI, all rules, incl. start-up)`, median: fmt.ms(s.median), min: fmt.ms(s.min), max: fmt.ms(s.max), detail: `${last.findings ?? '?'} findings, exit ${last.code}` });
      if (name === 'kube-170k.txt') targets.push(target('lint kube-170k incl. start-up', s.median, LINT_LIMIT_MS, { unit: 'ms' }));
    }
    return {
      columns: [
        { key: 'what', label: 'what' },
        { key: 'median', label: 'median' },
        { key: 'min', label: 'min' },
        { key: 'max', label: 'max' },
        { key: 'detail', label: 'detail' },
      ],
      rows, notes: [`${runs} runs each (fresh processes)`], targets, summary: measured,
    };
  },
};
