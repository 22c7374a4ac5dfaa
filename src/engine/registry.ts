// The rules dockfw-lint ships: every rules/<ID>-<name>/rule.ts, collected by the
// generated rules/index.ts, plus the engine's own diagnostics (DFW0xx, DFW9xx).

import { builtinRules } from '../../rules/index.ts';
import { ENGINE_RULES } from './engine-rules.ts';
import type { LintRule } from './types.ts';

export { builtinRules, ENGINE_RULES };

function byId(a: LintRule, b: LintRule): number {
  return a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0;
}

/** Every rule known to this run (engine, built-in, plugins), sorted by id: for listings, SARIF and --explain. */
export function knownRules(lintRules: readonly LintRule[] = builtinRules): LintRule[] {
  return [...ENGINE_RULES, ...lintRules].sort(byId);
}

/** Looks a rule up by id (any case) or name. */
export function findRule(rules: readonly LintRule[], idOrName: string): LintRule | undefined {
  const wanted = idOrName.trim();
  return rules.find((r) => r.meta.id.toUpperCase() === wanted.toUpperCase() || r.meta.name === wanted.toLowerCase());
}
