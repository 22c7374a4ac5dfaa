// Section "parse": parse() from dist/index.mjs on each generated ruleset, against
// `iptables-restore --test` on the same file in the same run.
//
// Every parse runs in a fresh child process (`node -e`, importing the bundle): the time is
// that of one cold parse() call, as the CLI does it, and the child's maxRSS belongs to that
// one parse of that one file. The table shows the median, min and max over `runs` children
// and the largest peak RSS among them. iptables-restore --test runs `runs` times per file
// inside one scratch network namespace (scripts/lib/netns.mjs), also a fresh process each.
// Each file is also given to ast-floor.mjs the same way: the cost of the AST's shape alone.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { restoreTestFiles, writeBenchFiles } from '../gen/index.mjs';
import { fmt, summarize, target } from './report.mjs';

const PARSE_TARGET_RATIO = 0.4; // 170k parse ≤ 0.4 × iptables-restore --test
const LINEARITY_LIMIT = 3.8; // 170k time / 50k time (3.4 would be exactly linear)
const PEAK_RSS_LIMIT_MB = 400; // decimal MB, like the sizes

// Runs in the child as an ES module: argv = [node, bundleUrl, file].
const CHILD = `
import { readFileSync } from 'node:fs';
const [bundleUrl, file] = process.argv.slice(1);
const { parse } = await import(bundleUrl);
const text = readFileSync(file, 'utf8');
const rssBeforeParse = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const result = parse(text, { file });
const ms = performance.now() - started;
const peakRss = process.resourceUsage().maxRSS * 1024;
let rules = 0;
for (const ruleset of result.rulesets) for (const table of ruleset.tables) for (const chain of table.chains) rules += chain.rules.length;
process.stdout.write(JSON.stringify({ ms, rules, errors: result.errors.length, firstError: result.errors[0]?.message, rssBeforeParse, peakRss }));
`;

// The same frame around buildAstFloor (ast-floor.mjs): what the AST's shape alone costs.
const FLOOR_CHILD = `
import { readFileSync } from 'node:fs';
const [floorUrl, file] = process.argv.slice(1);
const { buildAstFloor } = await import(floorUrl);
const text = readFileSync(file, 'utf8');
const started = performance.now();
const rules = buildAstFloor(text, file);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, rules, peakRss: process.resourceUsage().maxRSS * 1024 }));
`;
const FLOOR_MODULE = new URL('./ast-floor.mjs', import.meta.url).href;

function parseInChild(bundle, file) {
  return timeInChild(CHILD, pathToFileURL(bundle).href, file);
}

function timeInChild(script, moduleUrl, file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, moduleUrl, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else {
        const lines = stderr.trim().split('\n');
        const error = lines.find((line) => /Error\b/.test(line)) ?? lines.at(-1);
        reject(new Error(`child for ${file} exited with ${code}: ${error}`));
      }
    });
  });
}

/** Medians of iptables-restore --test per file, or { skipped: reason }. */
async function restoreTimes(files, { runs, backend, log }) {
  let results;
  try {
    results = await restoreTestFiles(files, {
      runs,
      backend,
      onFile: (result) => log(`  iptables-restore --test ${result.name}: ${result.ok ? fmt.ms(summarize(result.times).median) : `FAILED: ${result.stderr.split('\n')[0]}`}`),
    });
  } catch (error) {
    return { skipped: error.message };
  }
  return {
    byFile: Object.fromEntries(results.map((result) => [result.name, result.ok ? summarize(result.times) : { failure: result.stderr.split('\n')[0] }])),
  };
}

export const parseSection = {
  name: 'parse',
  title: `Parse: parse() vs iptables-restore --test`,
  async run({ bundle, cacheDir, runs, backend, restore, log }) {
    if (!existsSync(bundle)) throw new Error(`${bundle} does not exist: run npm run build (npm run bench does)`);
    const files = writeBenchFiles(cacheDir, { log: (line) => log(`  ${line}`) });
    const rows = [];
    for (const file of files) {
      const children = [];
      for (let i = 0; i < runs; i++) children.push(await parseInChild(bundle, file.path));
      const time = summarize(children.map((child) => child.ms));
      const floors = [];
      for (let i = 0; i < runs; i++) floors.push(await timeInChild(FLOOR_CHILD, FLOOR_MODULE, file.path));
      const floorMs = summarize(floors.map((floor) => floor.ms)).median;
      const child = children[0];
      const peakRss = Math.max(...children.map((run) => run.peakRss));
      log(`  parse ${file.name}: median ${fmt.ms(time.median)}, peak RSS ${fmt.mb(peakRss)}`);
      rows.push({
        file: file.name,
        bytes: file.bytes,
        rules: file.rules,
        parsedRules: child.rules,
        errors: child.errors,
        firstError: child.firstError,
        parseMs: time.median,
        parseMinMs: time.min,
        parseMaxMs: time.max,
        floorMs,
        mbPerS: file.bytes / 1e6 / (time.median / 1000),
        peakRss,
        rssBeforeParse: Math.max(...children.map((run) => run.rssBeforeParse)),
      });
    }

    const restoreResult = restore ? await restoreTimes(files, { runs, backend, log }) : { skipped: 'disabled with --no-restore' };
    for (const row of rows) {
      const measured = restoreResult.byFile?.[row.file];
      row.restoreMs = measured?.median ?? null;
      row.restoreFailure = measured?.failure;
      row.ratio = row.restoreMs ? row.parseMs / row.restoreMs : null;
      row.floorRatio = row.restoreMs ? row.floorMs / row.restoreMs : null;
    }

    const byName = Object.fromEntries(rows.map((row) => [row.file, row]));
    const big = byName['kube-170k.txt'];
    const medium = byName['kube-50k.txt'];
    const linearity = big && medium ? big.parseMs / medium.parseMs : null;
    const restoreReason = restoreResult.skipped ?? big?.restoreFailure;
    const notes = [];
    if (restoreResult.skipped) notes.push(`iptables-restore --test not measured: ${restoreResult.skipped}`);
    for (const row of rows) {
      if (row.errors > 0) notes.push(`${row.file}: parse() reported ${row.errors} errors (first: ${row.firstError})`);
      if (row.parsedRules !== row.rules) notes.push(`${row.file}: parse() returned ${row.parsedRules} rules, the file has ${row.rules}`);
      if (row.restoreFailure) notes.push(`${row.file}: iptables-restore --test failed: ${row.restoreFailure}`);
    }
    notes.push(`linearity (kube-170k / kube-50k parse time): ${fmt.ratio(linearity)}; rules ratio ${fmt.ratio(big && medium ? big.rules / medium.rules : null)}`);
    if (big) {
      notes.push(`AST floor (scripts/bench/ast-floor.mjs: only allocating the AST's nodes for each -A line, no validation): kube-170k ${fmt.ms(big.floorMs)} = ${fmt.ratio(big.floorRatio)} restore --test; parse() is ${fmt.ratio(big.parseMs / big.floorMs)} the floor`);
    }
    notes.push(`${runs} runs per file, each a fresh process: parse() timed inside the child (no start-up, no file read), peak RSS = largest child maxRSS; iptables-restore --test (${backend}) timed from spawn to exit`);

    return {
      columns: [
        { key: 'file', label: 'file' },
        { key: 'bytes', label: 'size', format: fmt.mb },
        { key: 'rules', label: 'rules', format: fmt.int },
        { key: 'parseMs', label: 'parse (median)', format: fmt.ms },
        { key: 'parseMinMs', label: 'min', format: fmt.ms },
        { key: 'parseMaxMs', label: 'max', format: fmt.ms },
        { key: 'mbPerS', label: 'MB/s', format: (value) => (value == null ? '–' : value.toFixed(1)) },
        { key: 'peakRss', label: 'peak RSS', format: fmt.mb },
        { key: 'restoreMs', label: 'restore --test', format: fmt.ms },
        { key: 'ratio', label: 'parse/restore', format: fmt.ratio },
        { key: 'floorMs', label: 'AST floor', format: fmt.ms },
        { key: 'floorRatio', label: 'floor/restore', format: fmt.ratio },
        { key: 'errors', label: 'errors', format: fmt.int },
      ],
      rows,
      notes,
      summary: { linearity },
      targets: [
        target('kube-170k parse / iptables-restore --test', big?.ratio ?? null, PARSE_TARGET_RATIO, { unit: '×', reason: restoreReason ?? 'kube-170k missing' }),
        target('linearity: kube-170k / kube-50k parse time', linearity, LINEARITY_LIMIT, { unit: '×', reason: 'kube-170k or kube-50k missing' }),
        target('peak RSS of a parse child (largest over files)', rows.length ? Math.max(...rows.map((row) => row.peakRss)) / 1e6 : null, PEAK_RSS_LIMIT_MB, { unit: 'MB' }),
      ],
    };
  },
};
