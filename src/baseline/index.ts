// Baselines: findings accepted as they are (see format.ts for the file, apply.ts
// for matching and stale entries, cli.ts for --baseline and --write-baseline).

export { applyBaseline, baselineEntries, isBaselinable, staleEntryFindings, type BaselineScope } from './apply.ts';
export { BASELINE_VERSION, baselineKey, parseBaseline, renderBaseline, type Baseline, type BaselineEntry } from './format.ts';
export { SourceLines, withoutCounters } from './source-lines.ts';
