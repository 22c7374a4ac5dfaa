#!/usr/bin/env node
// Precision and recall of every rule over the labelled corpus (corpus/labels.json).
//
//   npm run accuracy                 builds dist/ first, then runs this
//   node scripts/accuracy.mjs --json prints the matches as JSON instead of the report
//
// Lints every labelled file with the built CLI in one run (so <name>.v4.txt/<name>.v6.txt pairs
// are analysed as one host), with an empty config (a .dockfw-lint.json above the checkout must
// not change the result) and no failure threshold. A finding matches a label by (file, rule,
// line); engine diagnostics (DFW0xx, DFW9xx) are not scored but listed. Exit 0 when every rule
// is at 100% precision and recall, 1 when there is any false positive, false negative, parse
// error, engine diagnostic or CLI crash, 2 when the run itself cannot start (invalid labels, no dist/).
// If the CLI dies on the whole corpus, every host is linted on its own and the crashes are listed.
// `npm test` does not run this; test/accuracy.test.ts checks the labels and the hardened hosts.

import { Ajv } from 'ajv';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchAll, percent, tabulate } from './lib/accuracy.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.mjs');

function fail(message) {
  process.stderr.write(`accuracy: ${message}\n`);
  process.exit(2);
}

function loadLabels() {
  const labels = JSON.parse(readFileSync(join(root, 'corpus', 'labels.json'), 'utf8'));
  const schema = JSON.parse(readFileSync(join(root, 'schemas', 'labels.schema.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
  if (!validate(labels)) {
    fail(`corpus/labels.json does not match schemas/labels.schema.json:\n${validate.errors.map((e) => `  ${e.instancePath || '/'} ${e.message}`).join('\n')}`);
  }
  for (const file of Object.keys(labels.files)) if (!existsSync(join(root, file))) fail(`${file} is labelled but does not exist`);
  return labels;
}

function registeredRules(config) {
  const listing = execFileSync(process.execPath, [cli, '--config', config, '--list-rules'], { cwd: root, encoding: 'utf8' });
  return listing.split('\n').map((line) => /^([A-Z]+\d+)\s/.exec(line)?.[1]).filter(Boolean);
}

function runCli(files, config) {
  const run = spawnSync(process.execPath, [cli, '--config', config, '--format', 'json', '--failure-threshold', 'none', '--no-color', ...files], {
    cwd: root, encoding: 'utf8', maxBuffer: 1 << 30,
  });
  if (run.error) fail(`cannot run ${cli}: ${run.error.message}`);
  try {
    return { report: JSON.parse(run.stdout) };
  } catch {
    return { failure: `exit ${run.status}: ${oneLine(run.stderr).slice(0, 300) || 'no output'}` };
  }
}

/** <name>.v4.txt and <name>.v6.txt are one host; every other file is its own. */
function hostsOf(files) {
  const groups = new Map();
  for (const file of files) {
    const key = file.replace(/\.v[46]\.txt$/, '');
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  return [...groups.values()];
}

/**
 * One CLI run over every file (pairs are found by the CLI). When that run dies without a
 * report, each host is linted on its own, so one crash costs that host's findings (they show
 * as false negatives, and the crash is listed) instead of the whole report.
 */
function lint(files, config) {
  const whole = runCli(files, config);
  if (whole.report) return { ...whole.report, crashes: [] };
  process.stderr.write(`accuracy: the CLI failed on the whole corpus (${whole.failure}); linting host by host\n`);
  const merged = { findings: [], errors: [], crashes: [] };
  for (const host of hostsOf(files)) {
    const one = runCli(host, config);
    if (one.report) {
      merged.findings.push(...one.report.findings);
      merged.errors.push(...one.report.errors);
    } else {
      merged.crashes.push({ files: host, failure: one.failure });
    }
  }
  return merged;
}

function table(rows, total) {
  const header = ['rule', 'name', 'TP', 'FP', 'FN', 'precision', 'recall'];
  const body = rows.map((r) => [r.rule, r.name + (r.registered ? '' : ' (not registered)'), r.tp, r.fp, r.fn, percent(r.precision), percent(r.recall)].map(String));
  const foot = ['total', '', total.tp, total.fp, total.fn, percent(total.precision), percent(total.recall)].map(String);
  const all = [header, ...body, foot];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
  const line = (cells) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line), rule, line(foot)].join('\n');
}

function oneLine(text) {
  return text.replace(/\s+/g, ' ').trim();
}

function main(argv) {
  const asJson = argv.includes('--json');
  if (!existsSync(cli)) fail('dist/cli.mjs is missing: run `npm run accuracy` (it builds first)');
  const labels = loadLabels();
  const files = Object.keys(labels.files).sort();

  const scratch = mkdtempSync(join(tmpdir(), 'dockfw-accuracy-'));
  let report;
  let registered;
  try {
    const config = join(scratch, 'config.json');
    writeFileSync(config, '{}\n');
    registered = registeredRules(config);
    report = lint(files, config);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const matched = matchAll(labels.files, report.findings);
  const { rows, total } = tabulate(matched, registered);
  const hardened = report.findings.filter((f) => f.file.startsWith('corpus/hardened/'));
  const troubles = report.errors.length + report.crashes.length + matched.engine.length + matched.unlabelled.length;

  if (asJson) {
    process.stdout.write(`${JSON.stringify({ rows, total, fp: matched.fp, fn: matched.fn, engine: matched.engine, errors: report.errors, crashes: report.crashes, hardened }, null, 2)}\n`);
  } else {
    const out = [];
    out.push(`dockfw-lint accuracy over ${files.length} labelled corpus files (${Object.values(labels.files).reduce((n, f) => n + f.findings.length, 0)} expected findings)`, '');
    out.push(table(rows, total), '');
    out.push(`Hardened hosts (corpus/hardened/): ${hardened.length} finding(s), must be 0.`);
    out.push('', `False positives (${matched.fp.length}): reported, not labelled`);
    for (const m of matched.fp) out.push(`  ${m.file}:${m.line} ${m.rule} ${oneLine(m.finding.message)}`);
    out.push('', `False negatives (${matched.fn.length}): labelled, not reported`);
    for (const m of matched.fn) {
      const where = m.label.alternativeLines ? ` (or line ${m.label.alternativeLines.join(', ')})` : '';
      out.push(`  ${m.file}:${m.line}${where} ${m.rule}${rows.find((r) => r.rule === m.rule)?.registered ? '' : ' [rule not registered]'} ${oneLine(m.label.what)}`);
    }
    if (troubles > 0) {
      out.push('', 'Not scored, but wrong:');
      for (const c of report.crashes) out.push(`  ${c.files.join(' + ')}: the CLI crashed (${c.failure})`);
      for (const e of report.errors) out.push(`  ${e.file}:${e.line} parse error: ${oneLine(e.message)}`);
      for (const f of matched.engine) out.push(`  ${f.file}:${f.line} ${f.ruleId} ${oneLine(f.message)}`);
      for (const f of matched.unlabelled) out.push(`  ${f.file}:${f.line} ${f.ruleId} finding in a file without labels`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return matched.fp.length + matched.fn.length + troubles > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
