#!/usr/bin/env node
// Deterministic rulesets for benchmarks and tests (plain ESM, no dependencies).
//
//   import { kubeProxyRuleset, dockerHostRuleset, fleetHost } from './scripts/gen/index.mjs'
//   node scripts/gen/index.mjs [--out DIR] [--check]
//
// The command writes the benchmark files (BENCH_FILES) to DIR (default .bench-cache/). A
// manifest keyed by the generators' own source text lets reruns skip regeneration, and a
// file whose content did not change is not rewritten. --check loads every written file
// with `iptables-restore --test` in a scratch network namespace.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDockerHost, dockerHostRuleset, DOCKER_LAYOUTS, DOCKER_MISTAKES } from './docker-host.mjs';
import { kubeProxyRuleset } from './kube-proxy.mjs';
import { createRandom } from './prng.mjs';

export { buildDockerHost, dockerHostRuleset, DOCKER_LAYOUTS, DOCKER_MISTAKES, kubeProxyRuleset };

const FLEET_MIN_RULES = 50;
const FLEET_MAX_RULES = 500;

/**
 * The options of fleet host number `seed`: a random Docker version among the layouts that load
 * without extra kernel state (28.0.0 needs an ipset, and lived one week), 1–10 bridges, random
 * published ports, and on some hosts the usual administrator mistakes. The published-port count
 * is adjusted until the host has 50–500 rules.
 */
export function describeFleetHost(seed) {
  const random = createRandom(`fleet/${seed}`);
  const bridges = random.weighted([[1, 30], [2, 25], [3, 20], [random.int(4, 6), 18], [random.int(7, 10), 7]]);
  const layout = random.weighted([['27', 35], ['28.0.1', 8], ['28.2.0', 5], ['28.2.2', 22], ['29', 30]]);
  const hasUserReturn = !['28.2.2', '29'].includes(layout);
  const mistakes = [
    ['M1', 0.3], ['M2', 0.15], ['M3', hasUserReturn ? 0.1 : 0], ['M4', 0.1], ['M8', 0.1],
  ].filter(([, probability]) => random.chance(probability)).map(([id]) => id);
  // Log-uniform target size: small hosts are the common case.
  const targetRules = Math.round(FLEET_MIN_RULES * (FLEET_MAX_RULES / FLEET_MIN_RULES) ** random.next());
  const options = {
    seed: `fleet-${seed}`,
    layout,
    bridges,
    publishedPorts: Math.max(1, Math.round((targetRules - 20 - 8 * bridges) / 3)),
    userlandProxy: random.chance(0.85),
    forwardPolicy: random.chance(0.85) ? 'DROP' : 'ACCEPT',
    internalNetworks: random.chance(0.2) ? random.int(1, 2) : 0,
    iccDisabled: bridges > 1 && random.chance(0.15) ? 1 : 0,
    loopbackShare: random.chance(0.4) ? 0.15 : 0,
    hostIpShare: random.chance(0.2) ? 0.1 : 0,
    adminInput: random.chance(0.9),
    dockerUserRules: random.chance(0.2),
    mistakes,
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    const rules = buildDockerHost(options).ruleCount;
    if (rules < FLEET_MIN_RULES) options.publishedPorts += Math.ceil((FLEET_MIN_RULES - rules) / 3) + 1;
    else if (rules > FLEET_MAX_RULES) options.publishedPorts = Math.max(1, options.publishedPorts - Math.ceil((rules - FLEET_MAX_RULES) / 3) - 1);
    else break;
  }
  return options;
}

/** iptables-save text of fleet host number `seed` (see describeFleetHost). */
export function fleetHost(seed) {
  return dockerHostRuleset(describeFleetHost(seed));
}

/** The files the benchmark reads, with how each is made. */
export const BENCH_FILES = [
  { name: 'kube-10k.txt', kind: 'kube-proxy', generate: () => kubeProxyRuleset(10_000) },
  { name: 'kube-50k.txt', kind: 'kube-proxy', generate: () => kubeProxyRuleset(50_000) },
  { name: 'kube-170k.txt', kind: 'kube-proxy', generate: () => kubeProxyRuleset(170_000) },
  { name: 'docker-500.txt', kind: 'docker', generate: () => dockerHostRuleset({ bridges: 20, publishedPorts: 500 }) },
];

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = resolve(HERE, '../../.bench-cache');
const MANIFEST = 'manifest.json';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** Changes whenever any generator source changes, i.e. whenever the output could. */
function generatorKey() {
  const sources = readdirSync(HERE).filter((file) => file.endsWith('.mjs')).sort();
  return sha256(sources.map((file) => `${file}\0${readFileSync(join(HERE, file), 'utf8')}`).join('\0'));
}

const countRules = (text) => {
  let count = 0;
  for (let at = text.indexOf('\n-A '); at !== -1; at = text.indexOf('\n-A ', at + 1)) count++;
  return count;
};

/**
 * Writes the benchmark files to `dir` and returns what is there:
 * [{ name, kind, path, bytes, rules, sha256, cached }].
 */
export function writeBenchFiles(dir = DEFAULT_OUT_DIR, { log = () => {} } = {}) {
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, MANIFEST);
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  const key = generatorKey();
  const results = [];
  for (const { name, kind, generate } of BENCH_FILES) {
    const path = join(dir, name);
    const known = manifest[name];
    if (known?.key === key && existsSync(path) && sha256(readFileSync(path, 'utf8')) === known.sha256) {
      results.push({ name, kind, path, bytes: known.bytes, rules: known.rules, sha256: known.sha256, cached: true });
      continue;
    }
    const started = performance.now();
    const text = generate();
    const digest = sha256(text);
    // Same content as before (e.g. only a comment in a generator changed): keep the file as it is.
    if (!existsSync(path) || sha256(readFileSync(path, 'utf8')) !== digest) writeFileSync(path, text);
    const entry = { key, sha256: digest, bytes: Buffer.byteLength(text), rules: countRules(text) };
    manifest[name] = entry;
    log(`generated ${name}: ${entry.rules} rules, ${(entry.bytes / 1e6).toFixed(2)} MB in ${Math.round(performance.now() - started)} ms`);
    results.push({ name, kind, path, bytes: entry.bytes, rules: entry.rules, sha256: digest, cached: false });
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return results;
}

/**
 * `iptables-restore --test` on each file, `runs` times, in one scratch network namespace.
 * Resolves to [{ name, ok, times (ms of the successful runs), stderr (first failure) }];
 * rejects when scratch namespaces cannot be used here (not root, no iproute2, …).
 */
export async function restoreTestFiles(files, { runs = 1, backend = 'nft', onFile = () => {} } = {}) {
  const { netnsAvailable, withScratchNamespace, restoreTest } = await import('../lib/netns.mjs');
  const available = netnsAvailable();
  if (!available.ok) throw new Error(available.reason);
  return withScratchNamespace(async (ns) => {
    const results = [];
    for (const file of files) {
      const text = readFileSync(file.path, 'utf8');
      const result = { name: file.name, ok: true, times: [], stderr: '' };
      for (let i = 0; i < runs && result.ok; i++) {
        const run = await restoreTest(ns, text, { family: 'ipv4', backend, timeoutMs: 600_000 });
        if (run.ok) result.times.push(run.ms);
        else Object.assign(result, { ok: false, stderr: run.stderr.trim() });
      }
      onFile(result);
      results.push(result);
    }
    return results;
  });
}

async function main(argv) {
  let out = DEFAULT_OUT_DIR;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = resolve(argv[++i] ?? '');
    else if (argv[i] === '--check') check = true;
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node scripts/gen/index.mjs [--out DIR] [--check]');
      return 0;
    } else {
      console.error(`unknown argument ${argv[i]}`);
      return 2;
    }
  }
  const files = writeBenchFiles(out, { log: (line) => console.log(line) });
  for (const file of files) {
    console.log(`${file.cached ? 'cached   ' : 'generated'} ${file.path}  ${file.rules} rules  ${(file.bytes / 1e6).toFixed(2)} MB`);
  }
  if (!check) return 0;
  const results = await restoreTestFiles(files, {
    onFile: (result) => console.log(result.ok
      ? `ok   iptables-restore --test ${result.name} (${(result.times[0] / 1000).toFixed(2)} s)`
      : `FAIL iptables-restore --test ${result.name}\n${result.stderr}`),
  });
  return results.every((result) => result.ok) ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
