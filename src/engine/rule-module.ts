// Picks the rule out of a module (built-in rule folders and plugins alike) and
// checks its shape, so a malformed rule fails with a message naming it instead
// of crashing somewhere later.

import type { LintRule } from './types.ts';

const SEVERITIES = new Set(['error', 'warning', 'info']);

/** Why `value` is not a usable rule, or undefined when it is. */
export function ruleProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const rule = value as { meta?: Record<string, unknown>; check?: unknown };
  if (typeof rule.check !== 'function') return 'has no check function';
  const meta = rule.meta;
  if (typeof meta !== 'object' || meta === null) return 'has no meta';
  if (typeof meta.id !== 'string' || !/^[A-Z]+[0-9]+$/.test(meta.id)) return `meta.id ${JSON.stringify(meta.id)} is not a code like DFW101`;
  if (typeof meta.name !== 'string' || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(meta.name)) return `meta.name ${JSON.stringify(meta.name)} is not kebab-case`;
  if (typeof meta.severity !== 'string' || !SEVERITIES.has(meta.severity)) return `meta.severity ${JSON.stringify(meta.severity)} is not error, warning or info`;
  if (typeof meta.summary !== 'string') return 'meta.summary is missing';
  if (typeof meta.messages !== 'object' || meta.messages === null) return 'meta.messages is missing';
  if (!Array.isArray(meta.tags)) return 'meta.tags is not an array';
  return undefined;
}

function looksLikeRule(value: unknown): value is LintRule {
  return typeof value === 'object' && value !== null && 'meta' in value && 'check' in value;
}

/** The module's rule: its default export, else its one export that looks like a rule. */
export function ruleOf(module: Readonly<Record<string, unknown>>, where: string): LintRule {
  const candidates = looksLikeRule(module.default) ? [module.default] : Object.values(module).filter(looksLikeRule);
  if (candidates.length !== 1) throw new Error(`${where}: expected one exported rule (default export), found ${candidates.length}`);
  const problem = ruleProblem(candidates[0]);
  if (problem) throw new Error(`${where}: the exported rule ${problem}`);
  return candidates[0]!;
}
