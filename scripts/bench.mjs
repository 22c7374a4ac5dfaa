#!/usr/bin/env node
// Performance benchmark: `npm run bench` (builds first, runs with --expose-gc).
//
//   node --expose-gc scripts/bench.mjs [--only parse,startup] [--runs 5] [--startup-runs 10]
//        [--backend nft|legacy] [--no-restore] [--out DIR] [--strict]
//
// Sections are run in order; each returns rows (printed as a table), notes, and targets
// (PASS / MISS / SKIP). The last line of output is one JSON object with everything measured.
// To add a section, write a module like scripts/bench/parse.mjs and list it in SECTIONS.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OUT_DIR } from './gen/index.mjs';
import { analysisSection } from './bench/analysis.mjs';
import { boundsSection } from './bench/bounds.mjs';
import { fleetSection } from './bench/fleet.mjs';
import { parseSection } from './bench/parse.mjs';
import { renderTable } from './bench/report.mjs';
import { startupSection } from './bench/startup.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = [parseSection, startupSection, analysisSection, fleetSection, boundsSection];

const USAGE = `usage: node --expose-gc scripts/bench.mjs [options]
  --only NAMES        comma-separated sections to run (${SECTIONS.map((section) => section.name).join(', ')})
  --runs N            parse and iptables-restore runs per file (default 5)
  --startup-runs N    CLI start-up runs (default 10)
  --fleet-runs N      runs of each fleet mode (default 3)
  --backend B         iptables-restore backend: nft (default) or legacy
  --no-restore        do not measure iptables-restore --test
  --out DIR           where the generated rulesets are cached (default .bench-cache/)
  --strict            exit 1 when a target is missed`;

function parseArgs(argv) {
  const options = { only: null, runs: 5, startupRuns: 10, backend: 'nft', restore: true, cacheDir: DEFAULT_OUT_DIR, strict: false };
  const positive = (flag, value) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) throw new Error(`${flag} needs a positive integer`);
    return number;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') options.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--runs') options.runs = positive(arg, argv[++i]);
    else if (arg === '--startup-runs') options.startupRuns = positive(arg, argv[++i]);
    else if (arg === '--fleet-runs') options.fleetRuns = positive(arg, argv[++i]);
    else if (arg === '--backend') options.backend = argv[++i];
    else if (arg === '--no-restore') options.restore = false;
    else if (arg === '--out') options.cacheDir = resolve(argv[++i] ?? '');
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!['nft', 'legacy'].includes(options.backend)) throw new Error('--backend is nft or legacy');
  const known = new Set(SECTIONS.map((section) => section.name));
  for (const name of options.only ?? []) {
    if (!known.has(name)) throw new Error(`unknown section ${name} (known: ${[...known].join(', ')})`);
  }
  return options;
}

function environment() {
  let iptables = null;
  try {
    iptables = execFileSync('iptables', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as null: the parse section still runs without iptables.
  }
  return {
    node: process.version, kernel: release(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, iptables,
    date: new Date().toISOString(), loadAverageAtStart: loadavg()[0],
  };
}

async function main(argv) {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const context = {
    root: ROOT,
    bundle: resolve(ROOT, 'dist/index.mjs'),
    cli: resolve(ROOT, 'dist/cli.mjs'),
    ...options,
    log: (line) => console.error(line),
  };
  const env = environment();
  console.log(`dockfw-lint bench — node ${env.node}, ${env.cpus} × ${env.cpuModel}, kernel ${env.kernel}, ${env.iptables ?? 'no iptables'}, load ${env.loadAverageAtStart.toFixed(2)}`);

  const report = { bench: 'dockfw-lint', env, options: { runs: options.runs, startupRuns: options.startupRuns, backend: options.backend, restore: options.restore }, sections: {}, targets: [] };
  for (const section of SECTIONS) {
    if (options.only && !options.only.includes(section.name)) continue;
    console.log(`\n## ${section.title}`);
    context.log(`[${section.name}] running…`);
    let result;
    try {
      result = await section.run(context);
    } catch (error) {
      console.log(`section ${section.name} failed: ${error.message}`);
      report.sections[section.name] = { error: error.message };
      report.targets.push({ section: section.name, name: `${section.name} section`, status: 'ERROR', reason: error.message });
      continue;
    }
    if (result.rows.length > 0) console.log(renderTable(result.columns, result.rows));
    for (const note of result.notes ?? []) console.log(`  · ${note}`);
    report.sections[section.name] = { rows: result.rows, notes: result.notes ?? [], summary: result.summary ?? {} };
    report.targets.push(...result.targets.map((item) => ({ section: section.name, ...item })));
  }

  // Timings on a shared machine move with its load: record it so runs can be compared fairly.
  env.loadAverageAtEnd = loadavg()[0];
  console.log(`\n## Targets (load average ${env.loadAverageAtStart.toFixed(2)} at start, ${env.loadAverageAtEnd.toFixed(2)} at end, ${env.cpus} CPUs)`);
  for (const item of report.targets) {
    const measured = item.value == null ? (item.reason ?? 'not measured') : `${item.value.toFixed(2)} ${item.unit} (limit ${item.limit} ${item.unit})`;
    console.log(`${item.status.padEnd(5)} ${item.name}: ${measured}`);
  }
  console.log(JSON.stringify(report));
  const missed = report.targets.some((item) => item.status === 'MISS' || item.status === 'ERROR');
  return options.strict && missed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
