// What stands at a reported place: the rule(s) of a line, or a chain
// declaration. Used for fingerprints and for config suppressions' `match`.

import { createRequire } from 'node:module';
import type { Rule, Ruleset, TableName } from '../../grammar/ast.ts';

export type LineSubject =
  | { readonly kind: 'rules'; readonly rules: readonly Rule[] }
  | { readonly kind: 'chain'; readonly table: TableName; readonly chain: string }
  | { readonly kind: 'comment'; readonly text: string };

/**
 * What one line holds, as the index keeps it: a lone rule as itself (nine lines in
 * ten), the rules of a line that expanded (`-s a,b`) as a list, anything else as
 * its subject. Subjects for rules are made only when asked for.
 */
type LineEntry = Rule | Rule[] | LineSubject;

function isSubject(entry: LineEntry): entry is LineSubject {
  return !Array.isArray(entry) && 'kind' in entry;
}

/**
 * file → line → what is there. Built on first use (a clean run on a 170k-rule file
 * never pays for it), as an array indexed by line: building a Map of one subject
 * object per line took longer than the lint of the few findings that asked.
 */
export class LineIndex {
  private built: Map<string, LineEntry[]> | undefined;

  constructor(private readonly rulesets: readonly Ruleset[]) {}

  private get byFile(): Map<string, LineEntry[]> {
    if (!this.built) {
      this.built = new Map();
      for (const ruleset of this.rulesets) this.add(ruleset);
    }
    return this.built;
  }

  private add(ruleset: Ruleset): void {
    const lines = this.lines(ruleset.file);
    for (const comment of ruleset.comments) lines[comment.span.line] = { kind: 'comment', text: comment.text };
    for (const table of ruleset.tables) {
      for (const chain of table.chains) {
        if (chain.span) lines[chain.span.line] = { kind: 'chain', table: table.name, chain: chain.name };
        const rules = chain.rules;
        for (let k = 0; k < rules.length; k++) {
          const rule = rules[k]!;
          const line = rule.span.line;
          const existing = lines[line];
          if (existing === undefined || isSubject(existing)) lines[line] = rule;
          else if (Array.isArray(existing)) existing.push(rule);
          else lines[line] = [existing, rule];
        }
      }
    }
  }

  private lines(file: string): LineEntry[] {
    let lines = this.built!.get(file);
    if (!lines) {
      lines = [];
      this.built!.set(file, lines);
    }
    return lines;
  }

  at(file: string, line: number): LineSubject | undefined {
    const lines = this.byFile.get(file);
    const entry = lines?.[line];
    if (entry === undefined || isSubject(entry)) return entry;
    // Kept in place, so that asking twice gives the same subject.
    const subject: LineSubject = { kind: 'rules', rules: Array.isArray(entry) ? entry : [entry] };
    lines![line] = subject;
    return subject;
  }

  /** The rules written on a line (several when `-s a,b` expands), else none. */
  rulesAt(file: string, line: number): readonly Rule[] {
    const subject = this.at(file, line);
    return subject?.kind === 'rules' ? subject.rules : [];
  }

  /** Lines holding rules, ascending, for "the next rule line". */
  ruleLines(file: string): number[] {
    const lines = this.byFile.get(file);
    const out: number[] = [];
    if (!lines) return out;
    for (let line = 0; line < lines.length; line++) {
      const entry = lines[line];
      if (entry !== undefined && (!isSubject(entry) || entry.kind === 'rules')) out.push(line);
    }
    return out;
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

// node:crypto takes ~5 ms to load, a fiftieth of a start, and a run without findings (a
// pre-commit hook on a clean ruleset) fingerprints nothing: it is loaded with the first finding.
let crypto: typeof import('node:crypto') | undefined;

export function hash16(text: string): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}
