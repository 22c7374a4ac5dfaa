// The main command: lint files, directories or stdin and report.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pc from 'picocolors';
import type { Family } from '../../grammar/ast.ts';
import type { FailureThreshold } from '../config/types.ts';
import { loadBaseline, settleBaseline } from '../baseline/cli.ts';
import { activeRules, atOrAbove } from '../engine/engine.ts';
import { ENGINE_RULES, INTERNAL_ERROR, STALE_BASELINE_ENTRY } from '../engine/engine-rules.ts';
import { todayUtc } from '../engine/suppressions.ts';
import { builtinRules } from '../engine/registry.ts';
import { defaultJobs, lintInputs } from '../fleet/index.ts';
import { NO_PROGRESS, progressBar, progressWanted } from '../fleet/progress.ts';
import { decideColour } from '../report/colour.ts';
import { REPORTERS, type Format, type LintReport } from '../report/index.ts';
import { formatParseError, summaryLine } from '../report/text.ts';
import { collectInputs } from './inputs.ts';
import { type CliIO, EXIT, UsageError, debugging } from './io.ts';
import { explainRule, listRules } from './rules-info.ts';
import { failureThreshold, lintSettings, loadEffectiveConfig } from './settings.ts';
import { TOOL } from './tool.ts';

export interface LintFlags {
  readonly format: Format;
  readonly failureThreshold?: FailureThreshold;
  readonly quiet?: boolean;
  readonly outputFile?: string;
  readonly config?: string;
  readonly extIf?: string[];
  readonly localAddr?: string[];
  readonly family?: Family;
  readonly color?: boolean;
  readonly inlineSuppressions?: boolean;
  readonly stdinFilename?: string;
  readonly explain?: string;
  readonly listRules?: boolean;
  readonly baseline?: string;
  readonly writeBaseline?: string;
  /** Worker threads for many files (default: os.availableParallelism()); 1 lints in this thread. */
  readonly jobs?: number;
}

export async function runLint(paths: readonly string[], flags: LintFlags, io: CliIO): Promise<number> {
  const effective = await loadEffectiveConfig(io, flags.config, builtinRules);
  if (flags.listRules) {
    io.stdout.write(listRules(effective.rules, effective.ruleConfig));
    return EXIT.clean;
  }
  if (flags.explain !== undefined) {
    const text = explainRule(effective.rules, flags.explain);
    if (text === undefined) throw new UsageError(`unknown rule "${flags.explain}"`, 'dockfw-lint --list-rules shows the ids and names');
    io.stdout.write(text);
    return EXIT.clean;
  }

  const baseline = flags.baseline !== undefined ? loadBaseline(io, flags.baseline) : undefined;
  const collected = collectInputs(paths, io, flags.stdinFilename);
  const settings = lintSettings(effective.config, flags);
  const quiet = flags.quiet ?? false;
  const progress = progressWanted({ human: flags.format === 'text', quiet, env: io.env, stderrIsTTY: io.stderr.isTTY })
    ? progressBar(io.stderr, collected.inputs.length) : NO_PROGRESS;
  let progressShown = false;
  const outcome = await lintInputs({
    inputs: collected.inputs,
    rules: effective.rules,
    slice: {
      settings,
      family: flags.family,
      ruleConfig: effective.ruleConfig,
      lint: {
        suppressions: effective.suppressions,
        configFile: effective.file,
        configText: effective.text,
        inlineSuppressions: flags.inlineSuppressions !== false,
        quiet,
        today: io.today ?? todayUtc(),
      },
    },
    jobs: flags.jobs ?? defaultJobs(),
    cwd: io.cwd,
    config: flags.config,
    progress,
  }).finally(() => { progressShown = progress.finish(); });
  if (debugging(io)) io.stderr.write(`dockfw-lint: debug: ${collected.inputs.length} files linted ${outcome.workers > 0 ? `by the main thread and ${outcome.workers} worker thread${outcome.workers === 1 ? '' : 's'}` : 'in the main thread'}\n`);
  const errors = [...collected.errors, ...outcome.errors].sort((a, b) =>
    (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) || a.span.line - b.span.line || a.span.column - b.span.column);
  const ran = activeRules(effective.rules, effective.ruleConfig, quiet);
  const baselineUsed = baseline !== undefined || flags.writeBaseline !== undefined;
  const engineRan = activeRules(ENGINE_RULES, effective.ruleConfig, quiet).filter((r) => baselineUsed || r !== STALE_BASELINE_ENTRY);
  const settled = baselineUsed
    ? settleBaseline(io, outcome.findings, {
      baseline,
      write: flags.writeBaseline,
      inputs: collected.inputs,
      checked: outcome.linted,
      ran: new Set([...engineRan, ...ran].map((r) => r.meta.id)),
      known: new Set([...ENGINE_RULES, ...effective.rules].map((r) => r.meta.id)),
      ruleConfig: effective.ruleConfig,
      quiet,
    })
    : undefined;
  const report: LintReport = {
    tool: TOOL,
    files: collected.files,
    findings: settled?.findings ?? outcome.findings,
    errors,
    rules: [...engineRan, ...ran].sort((a, b) => (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0)),
    suppressed: outcome.suppressed,
    ...(settled ? { baselined: settled.baselined } : {}),
  };

  // Errors go to stderr in every format (machine formats also carry them in the document).
  if (errors.length > 0) {
    const c = pc.createColors(decideColour({ flag: flags.color, env: io.env, isTTY: io.stderr.isTTY }));
    io.stderr.write(`${errors.map((e) => formatParseError(e, c)).join('\n')}\n`);
  }
  const toFile = flags.outputFile !== undefined;
  // Never colour in machine formats or in a file.
  const color = flags.format === 'text' && !toFile && decideColour({ flag: flags.color, env: io.env, isTTY: io.stdout.isTTY });
  const document = REPORTERS[flags.format](report, { color, quiet });
  if (toFile) {
    try {
      writeFileSync(resolve(io.cwd, flags.outputFile!), document);
    } catch (error) {
      throw new UsageError(`cannot write ${flags.outputFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  } else if (document) {
    io.stdout.write(document);
  }
  // The bar stood where the report's summary would be read: repeat it when the report went elsewhere.
  if (progressShown && (toFile || !io.stdout.isTTY)) {
    io.stderr.write(`${summaryLine(report, pc.createColors(decideColour({ flag: flags.color, env: io.env, isTTY: io.stderr.isTTY })))}\n`);
  }
  if (settled?.written !== undefined && flags.format === 'text' && !quiet) {
    io.stderr.write(`dockfw-lint: wrote ${settled.written} baseline ${settled.written === 1 ? 'entry' : 'entries'} to ${flags.writeBaseline}\n`);
  }

  if (errors.length > 0 || report.findings.some((f) => f.ruleId === INTERNAL_ERROR.meta.id)) return EXIT.trouble;
  if (flags.writeBaseline !== undefined) return EXIT.clean;
  const threshold = failureThreshold(flags.failureThreshold, effective.config);
  if (threshold !== 'none' && report.findings.some((f) => atOrAbove(f.severity, threshold))) return EXIT.findings;
  return EXIT.clean;
}
