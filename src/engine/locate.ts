// What stands at a reported place: the rule(s) of a line, or a chain
// declaration. Used for fingerprints and for config suppressions' `match`.

import { createHash } from 'node:crypto';
import type { Rule, Ruleset, TableName } from '../../grammar/ast.ts';

export type LineSubject =
  | { readonly kind: 'rules'; readonly rules: readonly Rule[] }
  | { readonly kind: 'chain'; readonly table: TableName; readonly chain: string }
  | { readonly kind: 'comment'; readonly text: string };

/** file → line → what is there. Built on first use: a clean run on a 170k-rule file never pays for it. */
export class LineIndex {
  private built: Map<string, Map<number, LineSubject>> | undefined;

  constructor(private readonly rulesets: readonly Ruleset[]) {}

  private get byFile(): Map<string, Map<number, LineSubject>> {
    if (!this.built) {
      this.built = new Map();
      for (const ruleset of this.rulesets) this.add(ruleset);
    }
    return this.built;
  }

  private add(ruleset: Ruleset): void {
    const lines = this.lines(ruleset.file);
    for (const comment of ruleset.comments) lines.set(comment.span.line, { kind: 'comment', text: comment.text });
    for (const table of ruleset.tables) {
      for (const chain of table.chains) {
        if (chain.span) lines.set(chain.span.line, { kind: 'chain', table: table.name, chain: chain.name });
        for (const rule of chain.rules) {
          const existing = lines.get(rule.span.line);
          if (existing?.kind === 'rules') (existing.rules as Rule[]).push(rule);
          else lines.set(rule.span.line, { kind: 'rules', rules: [rule] });
        }
      }
    }
  }

  private lines(file: string): Map<number, LineSubject> {
    let lines = this.built!.get(file);
    if (!lines) {
      lines = new Map();
      this.built!.set(file, lines);
    }
    return lines;
  }

  at(file: string, line: number): LineSubject | undefined {
    return this.byFile.get(file)?.get(line);
  }

  /** The rules written on a line (several when `-s a,b` expands), else none. */
  rulesAt(file: string, line: number): readonly Rule[] {
    const subject = this.at(file, line);
    return subject?.kind === 'rules' ? subject.rules : [];
  }

  /** Lines holding rules, ascending, for "the next rule line". */
  ruleLines(file: string): number[] {
    const lines = this.byFile.get(file);
    if (!lines) return [];
    return [...lines].filter(([, s]) => s.kind === 'rules').map(([line]) => line).sort((a, b) => a - b);
  }
}

/** `-A CHAIN spec`, without counters: what `match` in a config suppression is tested against. */
export function ruleLineText(rule: Rule): string {
  return `-A ${rule.chain}${rule.text ? ` ${rule.text}` : ''}`;
}

/**
 * The content a fingerprint is computed from: table + chain + the rule's
 * canonical text (counters and position excluded), so it survives a fresh
 * capture, counter changes and Docker reordering rules.
 */
export function fingerprintBasis(subject: LineSubject | undefined, fallback: string): string {
  if (!subject) return `message\u0000${fallback}`;
  switch (subject.kind) {
    case 'rules': return subject.rules.map((r) => `${r.table}\u0000${r.chain}\u0000${r.text}`).join('\u0001');
    case 'chain': return `${subject.table}\u0000${subject.chain}\u0000:chain`;
    case 'comment': return `comment\u0000${subject.text.replace(/\s+/g, ' ').trim()}`;
  }
}

export function hash16(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
