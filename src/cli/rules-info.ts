// `--list-rules` and `--explain RULE`.

import type { RuleConfig } from '../engine/engine.ts';
import { findRule, knownRules } from '../engine/registry.ts';
import { docsUrl, type LintRule } from '../engine/types.ts';
import { safeText } from '../report/sanitize.ts';

export function listRules(rules: readonly LintRule[], ruleConfig: RuleConfig): string {
  const all = knownRules(rules.filter((r) => !/^DFW(0\d\d|9\d\d)$/.test(r.meta.id)));
  const rows = all.map((r) => {
    const configured = ruleConfig[r.meta.id]?.severity;
    const severity = configured && configured !== r.meta.severity ? `${configured} (default ${r.meta.severity})` : r.meta.severity;
    return [r.meta.id, r.meta.name, severity, r.meta.summary];
  });
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length), 0));
  const lines = rows.map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  '));
  return `${safeText(lines.join('\n'))}\n`;
}

export function explainRule(rules: readonly LintRule[], idOrName: string): string | undefined {
  const rule = findRule(knownRules(rules.filter((r) => !/^DFW(0\d\d|9\d\d)$/.test(r.meta.id))), idOrName);
  if (!rule) return undefined;
  const { meta } = rule;
  const out = [
    `${meta.id} ${meta.name}  (default severity: ${meta.severity})`,
    '',
    meta.summary,
  ];
  if (meta.description) out.push('', meta.description);
  if (meta.tags.length > 0) out.push('', `tags: ${meta.tags.join(', ')}`);
  if (meta.options) out.push('', 'options (JSON Schema):', JSON.stringify(meta.options, null, 2));
  if (meta.defaultOptions) out.push('', `defaults: ${JSON.stringify(meta.defaultOptions)}`);
  out.push('', `docs: ${docsUrl(meta)}`, '');
  return safeText(out.join('\n'));
}
