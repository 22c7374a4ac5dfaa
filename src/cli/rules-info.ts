// `--list-rules` and `--explain RULE`.

import { readFileSync } from 'node:fs';
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

/** The rule's README from the rules/ folder next to the bundle (dist/../rules) or the sources (src/cli/../../rules). */
function readme(folder: string): string | undefined {
  for (const base of ['../rules/', '../../rules/']) {
    try {
      return readFileSync(new URL(`${base}${folder}/README.md`, import.meta.url), 'utf8');
    } catch {
      // not there: try the next place, else fall back to the rule's metadata
    }
  }
  return undefined;
}

export function explainRule(rules: readonly LintRule[], idOrName: string): string | undefined {
  const rule = findRule(knownRules(rules.filter((r) => !/^DFW(0\d\d|9\d\d)$/.test(r.meta.id))), idOrName);
  if (!rule) return undefined;
  const { meta } = rule;
  const doc = readme(`${meta.id}-${meta.name}`);
  if (doc) return safeText(`${meta.id} ${meta.name}  (default severity: ${meta.severity})\n\n${doc.trimEnd()}\n\ndocs: ${docsUrl(meta)}\n`);
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
