// Section "bounds": inputs built to be slow, at full size — a 50 MB file, a 1 MB single
// line, 100,000 chains, a jump chain 10,000 deep, deeply nested quoting, 1,000,000 rules
// in one chain — plus the shapes that found bugs (a long source blocklist, a diamond of
// jumps, one line expanding to a cartesian product of addresses). Each input runs in a
// fresh child process (`node` importing the bundles): parse() alone, then the whole lint
// (the built CLI, `--format json`), each with its wall time and the child's peak RSS, under
// a time limit (a run past it is reported as such and killed). test/robustness/bounds.test.ts
// runs the same generators scaled down and compares two sizes.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kubeProxyRuleset } from '../gen/index.mjs';
import { fmt, target } from './report.mjs';

const HEAD = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];

/** 10.x.y.z for i < 2^24: distinct addresses. */
function ip(i) {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** A kube-proxy node, grown to about `bytes` (kube-proxy's rules average ~160 bytes). */
export function largeFile(bytes) {
  return kubeProxyRuleset(Math.max(100, Math.round(bytes / 160)));
}

/** One rule whose comment makes the line `bytes` long (the lexer refuses lines over 64 KB: an error, not a scan). */
export function singleLine(bytes) {
  const prefix = '-A INPUT -m comment --comment "';
  const suffix = '" -j ACCEPT';
  return `${HEAD.join('\n')}\n${prefix}${'x'.repeat(Math.max(0, bytes - prefix.length - suffix.length))}${suffix}\nCOMMIT\n`;
}

/** `count` user chains, each reached from INPUT by destination and holding one rule. */
export function manyChains(count) {
  const lines = [...HEAD];
  for (let i = 0; i < count; i++) lines.push(`:C${i} - [0:0]`);
  for (let i = 0; i < count; i++) lines.push(`-A INPUT -d ${ip(i)}/32 -j C${i}`, `-A C${i} -p tcp -m tcp --dport 22 -j ACCEPT`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** INPUT → A1 → A2 → … → A`depth` → ACCEPT. */
export function deepChain(depth) {
  const lines = [...HEAD];
  for (let i = 1; i <= depth; i++) lines.push(`:A${i} - [0:0]`);
  lines.push('-A INPUT -j A1');
  for (let i = 1; i < depth; i++) lines.push(`-A A${i} -j A${i + 1}`);
  lines.push(`-A A${depth} -j ACCEPT`, 'COMMIT', '');
  return lines.join('\n');
}

/**
 * Quoting as deep as iptables-restore's rules allow (quotes do not nest: escapes and segments
 * do): `lines` rules, each about `bytes` long, alternating a comment of escaped quotes and
 * backslashes and a word whose quotes open and close dozens of times.
 */
export function nestedQuoting(bytes, lines = 1) {
  const out = [...HEAD];
  for (let i = 0; i < lines; i++) {
    const unit = i % 2 === 0 ? '\\"\\\\' : 'a"b \\" c"';
    const value = unit.repeat(Math.max(1, Math.floor((bytes - 60) / unit.length)));
    out.push(i % 2 === 0 ? `-A INPUT -m comment --comment "${value}" -j ACCEPT` : `-A INPUT -m comment --comment x${value}y -j ACCEPT`);
  }
  out.push('COMMIT', '');
  return out.join('\n');
}

/** `count` rules in INPUT, each for another destination (the shape of a large allow list). */
export function oneChain(count) {
  const lines = [...HEAD];
  for (let i = 0; i < count; i++) lines.push(`-A INPUT -d ${ip(i)}/32 -p tcp -m tcp --dport 443 -j ACCEPT`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** `count` rules in INPUT, each dropping another source (fail2ban, blocklists). */
export function sourceBlocklist(count) {
  const lines = [...HEAD];
  for (let i = 0; i < count; i++) lines.push(`-A INPUT -s ${ip(i)}/32 -j DROP`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** D1 → D2 → … → D`depth`, each chain jumping twice to the next: 2^depth paths from a 3·depth-line file. */
export function diamond(depth) {
  const lines = [...HEAD];
  for (let i = 1; i <= depth; i++) lines.push(`:D${i} - [0:0]`);
  lines.push('-A INPUT -j D1');
  for (let i = 1; i < depth; i++) lines.push(`-A D${i} -j D${i + 1}`, `-A D${i} -j D${i + 1}`);
  lines.push('-A INPUT -j DROP', 'COMMIT', '');
  return lines.join('\n');
}

/** One rule with `n` sources and `n` destinations: iptables makes n² rules of it. */
export function cartesianLine(n) {
  const list = (k) => Array.from({ length: n }, (_, i) => `10.${k}.${(i >>> 8) & 255}.${i & 255}`).join(',');
  return `${HEAD.join('\n')}\n-A INPUT -s ${list(1)} -d ${list(2)} -j ACCEPT\nCOMMIT\n`;
}

/** One rule with `n` greedy (unknown) modules and `n` options: every option looks for its module. */
export function greedyOptions(bytes) {
  const modules = ' -m foo'.repeat(Math.floor(bytes / 2 / 7));
  const options = ' --x'.repeat(Math.floor(bytes / 2 / 4));
  return `${HEAD.join('\n')}\n-A INPUT${modules}${options}\nCOMMIT\n`;
}

/** `lines` rules of `bytes` each, every one an unknown (greedy) module loaded many times, then many options. */
export function greedyOptionLines(bytes, lines) {
  const rule = greedyOptions(bytes).split('\n')[4];
  return `${HEAD.join('\n')}\n${Array(lines).fill(rule).join('\n')}\nCOMMIT\n`;
}

/** Comment lines repeating "Generated by " (the header regex scans from each). */
export function headerComments(bytes, lines) {
  const comment = `# ${'Generated by '.repeat(Math.floor((bytes - 2) / 13))}`;
  return `${HEAD.join('\n')}\n${Array(lines).fill(comment).join('\n')}\nCOMMIT\n`;
}

/** The full-size scenarios of the issue, and the shapes that found bugs. */
export const SCENARIOS = [
  { name: 'large-file', what: 'a 50 MB kube-proxy dump', make: () => largeFile(50e6) },
  { name: 'single-line-1mb', what: 'a 1 MB single line (refused: over 64 KB)', make: () => singleLine(1e6) },
  { name: 'line-64kb', what: 'a 64 KB line (the longest accepted)', make: () => singleLine(64 * 1024 - 1) },
  { name: 'chains-100k', what: '100,000 chains', make: () => manyChains(100_000) },
  { name: 'deep-10k', what: 'a jump chain 10,000 deep', make: () => deepChain(10_000) },
  { name: 'quoting', what: '1,000 lines of 60 KB nested quoting', make: () => nestedQuoting(60_000, 1000) },
  { name: 'one-chain-1m', what: '1,000,000 rules in one chain (destinations)', make: () => oneChain(1_000_000) },
  { name: 'blocklist-1m', what: '1,000,000 source drops in one chain', make: () => sourceBlocklist(1_000_000) },
  { name: 'blocklist-10k', what: '10,000 source drops in one chain', make: () => sourceBlocklist(10_000) },
  { name: 'diamond-24', what: '24 chains each jumping twice to the next (75 lines)', make: () => diamond(24) },
  { name: 'cartesian-400', what: 'one line: 400 sources × 400 destinations (8 KB)', make: () => cartesianLine(400) },
  { name: 'greedy-options', what: '20 lines of 64 KB: unknown modules and their options', make: () => greedyOptionLines(64_000, 20) },
  { name: 'header-comments', what: '20 comment lines of 64 KB repeating "Generated by "', make: () => headerComments(64_000, 20) },
];

// Runs in the child: argv = [node, bundleUrl, file]; prints the time and peak RSS of one parse().
const PARSE_CHILD = `
import { readFileSync } from 'node:fs';
const [bundleUrl, file] = process.argv.slice(1);
const { parse } = await import(bundleUrl);
const text = readFileSync(file, 'utf8');
const started = performance.now();
const result = parse(text, { file });
const ms = performance.now() - started;
let rules = 0;
for (const r of result.rulesets) for (const t of r.tables) for (const c of t.chains) rules += c.rules.length;
process.stdout.write(JSON.stringify({ ms, rules, errors: result.errors.length, peakRss: process.resourceUsage().maxRSS * 1024 }));
`;

// Runs the built CLI in the child and reports its wall time and peak RSS on exit (even on process.exit).
const LINT_CHILD = `
import { writeSync } from 'node:fs';
const [cliUrl, file] = process.argv.slice(1);
const started = performance.now();
process.on('exit', (code) => {
  writeSync(2, '\\n@@bounds ' + JSON.stringify({ ms: performance.now() - started, code, peakRss: process.resourceUsage().maxRSS * 1024 }) + '\\n');
});
process.argv = [process.argv[0], 'dockfw-lint', '--format', 'json', '--failure-threshold', 'none', file];
await import(cliUrl);
`;

function child(script, args, timeoutMs) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk) => { stdout += chunk; });
    proc.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut: signal === 'SIGKILL' });
    });
  });
}

async function measureParse(bundle, file, timeoutMs) {
  const r = await child(PARSE_CHILD, [pathToFileURL(bundle).href, file], timeoutMs);
  if (r.timedOut) return { status: `killed after ${timeoutMs / 1000} s` };
  if (r.code !== 0) return { status: `crashed: ${(r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 120)}` };
  const m = JSON.parse(r.stdout);
  return { status: 'ok', ms: m.ms, peakRss: m.peakRss, rules: m.rules, errors: m.errors };
}

async function measureLint(cli, file, timeoutMs) {
  const r = await child(LINT_CHILD, [pathToFileURL(cli).href, file], timeoutMs);
  if (r.timedOut) return { status: `killed after ${timeoutMs / 1000} s` };
  const line = r.stderr.split('\n').find((l) => l.startsWith('@@bounds '));
  if (!line) return { status: `crashed (signal ${r.signal ?? 'none'}, exit ${r.code}): ${(r.stderr.trim().split('\n').find((l) => /Error|error/.test(l)) ?? '').slice(0, 120)}` };
  const m = JSON.parse(line.slice('@@bounds '.length));
  let crashedRules = [];
  try {
    crashedRules = JSON.parse(r.stdout).findings.filter((f) => f.ruleId === 'DFW900').map((f) => /in rule (\S+)/.exec(f.message)?.[1] ?? '?');
  } catch {
    // No JSON document: the run itself failed (reported by its exit code and stderr).
  }
  const internal = /internal error/.test(r.stderr) || crashedRules.length > 0;
  const status = crashedRules.length > 0 ? `internal error in ${[...new Set(crashedRules)].join(', ')} (exit ${m.code})` : internal ? `internal error (exit ${m.code})` : `exit ${m.code}`;
  return { status, ms: m.ms, peakRss: m.peakRss };
}

export const boundsSection = {
  name: 'bounds',
  title: 'Resource bounds: inputs built to be slow, full size (parse and whole lint, each in a fresh process)',
  async run(context) {
    // Full sizes take tens of minutes: only when asked for by name.
    if (!context.only?.includes('bounds')) {
      return { rows: [], notes: ['not run: `npm run bench -- --only bounds` (full sizes take tens of minutes)'], targets: [] };
    }
    const dir = join(context.cacheDir, 'bounds');
    mkdirSync(dir, { recursive: true });
    // Per-run limit and a subset, from the environment (the bench's own flags stay as they are).
    const timeoutMs = Number(process.env.DOCKFW_BOUNDS_TIMEOUT ?? 300) * 1000;
    const only = process.env.DOCKFW_BOUNDS_ONLY ? new Set(process.env.DOCKFW_BOUNDS_ONLY.split(',')) : undefined;
    const rows = [];
    const targets = [];
    for (const scenario of SCENARIOS) {
      if (only && !only.has(scenario.name)) continue;
      context.log(`[bounds] ${scenario.name}: generating`);
      const text = scenario.make();
      const file = join(dir, `${scenario.name}.txt`);
      writeFileSync(file, text);
      const bytes = Buffer.byteLength(text);
      context.log(`[bounds] ${scenario.name}: ${fmt.mb(bytes)}, parsing`);
      const parsed = await measureParse(context.bundle, file, timeoutMs);
      context.log(`[bounds] ${scenario.name}: parse ${parsed.status} ${fmt.ms(parsed.ms)}; linting`);
      const linted = await measureLint(context.cli, file, timeoutMs);
      context.log(`[bounds] ${scenario.name}: lint ${linted.status} ${fmt.ms(linted.ms)}`);
      rows.push({
        input: scenario.name, what: scenario.what, size: fmt.mb(bytes), rules: fmt.int(parsed.rules),
        parse: parsed.ms === undefined ? parsed.status : fmt.ms(parsed.ms), parseRss: fmt.mb(parsed.peakRss), errors: fmt.int(parsed.errors),
        lint: linted.ms === undefined ? linted.status : fmt.ms(linted.ms), lintRss: fmt.mb(linted.peakRss), outcome: linted.ms === undefined ? '–' : linted.status,
      });
      // Parse: under 2 s per MB, and under 2 s for inputs below 1 MB.
      const parseLimit = 2000 * Math.max(1, bytes / 1e6);
      targets.push(parsed.ms === undefined
        ? { name: `${scenario.name} parse`, value: null, limit: parseLimit / 1000, unit: 's', status: 'MISS', reason: parsed.status }
        : target(`${scenario.name} parse`, parsed.ms / 1000, parseLimit / 1000, { unit: 's' }));
      targets.push(linted.ms === undefined || /internal error/.test(linted.status)
        ? { name: `${scenario.name} lint`, value: null, limit: 60, unit: 's', status: 'MISS', reason: linted.status }
        : target(`${scenario.name} lint`, linted.ms / 1000, 60, { unit: 's' }));
      if (parsed.peakRss !== undefined) targets.push(target(`${scenario.name} parse peak RSS`, parsed.peakRss / 1e6, Math.max(200, 40 * bytes / 1e6), { unit: 'MB' }));
    }
    return {
      columns: [
        { key: 'input', label: 'input' }, { key: 'what', label: 'what' }, { key: 'size', label: 'size', align: 'right' },
        { key: 'rules', label: 'rules', align: 'right' }, { key: 'parse', label: 'parse', align: 'right' }, { key: 'parseRss', label: 'parse RSS', align: 'right' },
        { key: 'errors', label: 'errors', align: 'right' }, { key: 'lint', label: 'lint', align: 'right' }, { key: 'lintRss', label: 'lint RSS', align: 'right' },
        { key: 'outcome', label: 'lint outcome' },
      ],
      rows,
      notes: [
        `each run in a fresh process (parse: dist/index.mjs; lint: dist/cli.mjs --format json); RSS is the child's peak (node alone ~45 MB); runs past ${timeoutMs / 1000} s are killed (DOCKFW_BOUNDS_TIMEOUT=seconds, DOCKFW_BOUNDS_ONLY=a,b for a subset)`,
        'targets: parse under 2 s per MB (2 s below 1 MB), parse peak RSS under 40× the input (at least 200 MB), the whole lint under 60 s without a crashed rule',
      ],
      targets,
    };
  },
};
