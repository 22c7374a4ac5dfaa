#!/usr/bin/env node
// The GitHub Action's work (action.yml runs this after `npm ci`): lint the
// given paths into SARIF, then write the job summary — findings, what each
// published port / container / host port is reachable from, and a Mermaid
// picture per host — and the step outputs. Always exits 0 itself; the exit
// code goes to the `exit-code` output so the SARIF upload still runs and a
// later step fails the job.
//
// Environment (set by action.yml from the inputs): DOCKFW_PATHS,
// DOCKFW_FAILURE_THRESHOLD, DOCKFW_CONFIG, DOCKFW_SARIF_FILE, DOCKFW_SUMMARY,
// DOCKFW_MAX_GRAPHS; GitHub's GITHUB_STEP_SUMMARY and GITHUB_OUTPUT.
// DOCKFW_LINT_CLI overrides the CLI to run (tests use a fresh bundle).

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const cli = env.DOCKFW_LINT_CLI || fileURLToPath(new URL('../../dist/cli.mjs', import.meta.url));
const paths = (env.DOCKFW_PATHS || '.').split(/\s+/).filter(Boolean);
const threshold = env.DOCKFW_FAILURE_THRESHOLD || 'error';
const sarifFile = env.DOCKFW_SARIF_FILE || 'dockfw-lint.sarif';
const config = env.DOCKFW_CONFIG ? ['--config', env.DOCKFW_CONFIG] : [];
const maxGraphs = Number.parseInt(env.DOCKFW_MAX_GRAPHS || '10', 10);
/** GitHub caps a step summary at 1 MiB; stay well below. */
const SUMMARY_BUDGET = 900 * 1024;
const MAX_ROWS = 200;

function dockfwLint(args) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: undefined, DOCKFW_LINT_FORMAT: undefined, DOCKFW_LINT_FAILURE_THRESHOLD: undefined },
  });
  return { code: r.status ?? 2, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------ Markdown text
// The same rules as src/diff/render.ts (mdText, mdCode): rule text and
// messages come from rulesets, so nothing in them may become HTML, a table
// break or a fence.

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function oneLine(text) {
  return String(text).replace(UNSAFE, (c) => `\\x${c.codePointAt(0).toString(16).padStart(2, '0')}`).replace(/\r?\n|\r/g, ' ').replace(/\t/g, ' ');
}

export function mdText(text) {
  return oneLine(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_[\]|~#])/g, '\\$1');
}

export function mdCode(text) {
  const line = oneLine(text);
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const padded = line.startsWith('`') || line.endsWith('`') ? ` ${line} ` : line;
  return `${fence}${padded.replace(/\|/g, '\\|')}${fence}`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const SEVERITY_ICON = { error: '🔴 error', warning: '🟠 warning', info: '🔵 info' };

function endpoint(address, port) {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function reachText(entry) {
  if (entry.reachableFrom.length === 0) return 'nowhere';
  return entry.reachableFrom.map((r) => `${r.interface === '*' ? 'any other interface' : r.interface}: ${r.sources.join(', ')}`).join('; ');
}

// ------------------------------------------------------------ the summary

function findingsSection(report) {
  const out = ['### Findings', ''];
  if (!report) return [...out, 'The JSON report could not be read; see the step log.', ''];
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  if (report.findings.length === 0) out.push(`✔ ${plural(report.files.length, 'file')} checked, no problems.`, '');
  else {
    const files = new Set(report.findings.map((f) => f.file)).size;
    out.push(`✖ ${plural(report.findings.length, 'problem')} (${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.info} info) in ${files} of ${plural(report.files.length, 'file')}.`, '');
    out.push('| severity | rule | where | message |', '| --- | --- | --- | --- |');
    for (const f of report.findings.slice(0, MAX_ROWS)) {
      out.push(`| ${SEVERITY_ICON[f.severity] ?? f.severity} | ${mdText(f.ruleId)} ${mdText(f.ruleName)} | ${mdCode(`${f.file}:${f.line}:${f.column}`)} | ${mdText(f.message)} |`);
    }
    if (report.findings.length > MAX_ROWS) out.push('', `… and ${report.findings.length - MAX_ROWS} more (all of them are in the SARIF report).`);
    out.push('');
  }
  if (report.errors?.length > 0) {
    out.push(`⚠ ${plural(report.errors.length, 'file')} could not be checked:`, '');
    for (const e of report.errors.slice(0, MAX_ROWS)) out.push(`- ${mdCode(`${e.file ?? e.span?.file}:${e.line ?? e.span?.line}`)} ${mdText(e.message)}`);
    out.push('');
  }
  return out;
}

function exposureSection(exposure) {
  const out = ['### Exposure', '', 'What a new connection from outside reaches, and from which sources (`dockfw-lint exposure`).', ''];
  const rows = [];
  for (const r of exposure?.rulesets ?? []) {
    const kinds = [['published', 'published port'], ['direct', 'container by direct routing'], ['host', 'host port']];
    for (const [key, label] of kinds) {
      for (const e of r[key] ?? []) {
        if (e.reachableFrom.length === 0) continue;
        const target = e.container ? `${endpoint(e.container.address, e.container.port)}${e.bridge ? ` (${e.bridge})` : ''}` : 'the host';
        rows.push(`| ${mdCode(r.file)} | ${r.family} | ${label} | ${mdCode(`${e.proto} ${endpoint(e.hostAddress, e.hostPort)}`)} | ${mdText(target)} | ${mdText(reachText(e))} |`);
      }
    }
  }
  if (rows.length === 0) return [...out, 'Nothing is reachable from outside.', ''];
  out.push('| file | family | what | address | reaches | reachable from |', '| --- | --- | --- | --- | --- | --- |', ...rows.slice(0, MAX_ROWS));
  if (rows.length > MAX_ROWS) out.push('', `… and ${rows.length - MAX_ROWS} more.`);
  return [...out, ''];
}

function graphsSection(files) {
  const out = ['### Paths', '', 'From each external interface through nat and filter to each published container port; the deciding rules are the bold edges.', ''];
  let drawn = 0;
  for (const file of files) {
    if (drawn >= maxGraphs) {
      out.push(`Not drawn: ${files.length - drawn} more (raise \`max-graphs\`).`, '');
      break;
    }
    const graph = dockfwLint(['graph', ...config, file]);
    if (graph.code !== 0 || !graph.stdout.includes('-->') && !graph.stdout.includes('==>')) continue;
    drawn++;
    out.push('<details>', `<summary>${mdText(file)}</summary>`, '', '```mermaid', graph.stdout.trimEnd(), '```', '', '</details>', '');
  }
  if (drawn === 0) out.push('No published ports to draw.', '');
  return out;
}

function writeOutput(name, value) {
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${String(value).replace(/[\r\n]/g, ' ')}\n`);
}

// ------------------------------------------------------------ main

function main() {
  const common = [...config, '--failure-threshold', threshold, ...paths];
  mkdirSync(dirname(resolve(sarifFile)), { recursive: true });
  const sarif = dockfwLint(['--format', 'sarif', '--output-file', sarifFile, ...common]);
  process.stderr.write(sarif.stderr);
  const exitCode = sarif.code;
  const json = dockfwLint(['--format', 'json', ...common]);
  const report = parseJson(json.stdout);
  // The human report in the log too: the summary is not the only place to read it.
  const text = dockfwLint(['--format', 'text', ...common]);
  process.stdout.write(text.stdout);

  writeOutput('exit-code', exitCode);
  writeOutput('sarif-file', existsSync(sarifFile) ? sarifFile : '');

  if (env.DOCKFW_SUMMARY !== 'false' && env.GITHUB_STEP_SUMMARY) {
    const exposure = parseJson(dockfwLint(['exposure', '--json', ...paths]).stdout);
    const checked = (report?.files ?? []).filter((f) => f.errors === 0).map((f) => f.path);
    const verdict = exitCode === 0 ? '✔ passed' : exitCode === 1 ? `✖ findings at or above ${threshold}` : '✖ could not check every file';
    const sections = [
      `## dockfw-lint: ${verdict}`, '',
      ...findingsSection(report),
      ...exposureSection(exposure),
      ...graphsSection(checked),
    ];
    let summary = `${sections.join('\n').trimEnd()}\n`;
    if (Buffer.byteLength(summary) > SUMMARY_BUDGET) {
      summary = `${summary.slice(0, SUMMARY_BUDGET)}\n\n… (cut: the summary is limited to 1 MiB; the SARIF report has everything)\n`;
    }
    appendFileSync(env.GITHUB_STEP_SUMMARY, summary);
  }
}

// Run when executed (not when a test imports the helpers).
if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1])) main();
