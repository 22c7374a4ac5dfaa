// Suppressions in three layers:
// - `# dockfw-lint ignore=DFW101,… -- reason` on a comment line: the next rule line;
// - `# dockfw-lint global ignore=… -- reason`: the whole file;
// - `-m comment --comment "dockfw-lint ignore=… -- reason"`: the rule itself (survives iptables-save);
// - config entries `{rule, file?, line?|match?, reason, expires?}`.
// Each remembers whether it suppressed anything, so stale ones are reported.

import type { Span } from '../../grammar/ast.ts';
import type { Finding, Host } from './types.ts';
import { ruleLineText, type LineIndex } from './locate.ts';

export interface ConfigSuppression {
  readonly rule: string;
  readonly file?: string;
  readonly line?: number;
  readonly match?: string;
  readonly reason: string;
  /** YYYY-MM-DD: the last day it applies. */
  readonly expires?: string;
}

/** Resolves an id or a name (any case) to a rule id; undefined when unknown. */
export type RuleResolver = (idOrName: string) => string | undefined;

export interface Suppression {
  readonly origin: 'line' | 'global' | 'rule-comment' | 'config';
  /** Where the suppression is written (for its own diagnostics). */
  readonly at: Span;
  /** Rule ids it names (resolved). */
  readonly ruleIds: readonly string[];
  readonly written: readonly string[];
  readonly reason?: string;
  /** Findings in this file … */
  readonly file?: string;
  /** … on this line (line pragmas, rule comments, config `line`). */
  readonly line?: number;
  /** Config `file` as a glob. */
  readonly fileGlob?: GlobMatcher;
  readonly match?: string;
  readonly expires?: string;
  /** Rule ids that suppressed at least one finding. */
  readonly used: Set<string>;
  /** Human description of the scope, for "unused" messages. */
  readonly where: string;
}

export interface PragmaProblem {
  readonly at: Span;
  readonly problem: string;
}

const PRAGMA = /^\s*dockfw-lint\b(.*)$/s;
interface ParsedPragma {
  readonly global: boolean;
  readonly names: readonly string[];
  readonly reason?: string;
}

const MALFORMED = 'malformed suppression: expected "dockfw-lint ignore=RULE[,RULE…] -- reason"';

/**
 * `dockfw-lint ignore=A,B -- why` → parts; `undefined` when it is not a pragma at all; a string when malformed.
 * Read step by step rather than with one regex: a single pattern for the list and the
 * optional reason backtracks on long comma lists, and comments are anyone's input.
 */
export function parsePragma(text: string): ParsedPragma | string | undefined {
  const pragma = PRAGMA.exec(text);
  if (!pragma) return undefined;
  const rest = pragma[1] ?? '';
  if (!/^\s/.test(rest)) return MALFORMED;
  let body = rest.trim();
  const global = /^global\s/.test(body);
  if (global) body = body.slice('global'.length).trimStart();
  const ignore = /^ignore\s*=\s*/.exec(body);
  if (!ignore) return MALFORMED;
  body = body.slice(ignore[0].length);
  const separator = body.search(/\s--/);
  const list = separator === -1 ? body : body.slice(0, separator);
  const reason = separator === -1 ? undefined : body.slice(separator).trimStart().slice(2).trim();
  const names = list.split(',').map((n) => n.trim());
  if (names.some((n) => n.length === 0 || /\s/.test(n))) return MALFORMED;
  // A name listed twice is one name (and one "unknown rule" problem at most).
  return { global, names: [...new Set(names)], reason: reason ? reason : undefined };
}

function resolveNames(names: readonly string[], resolve: RuleResolver, at: Span, problems: PragmaProblem[]): string[] {
  const ids: string[] = [];
  for (const name of names) {
    const id = resolve(name);
    if (id) ids.push(id);
    else problems.push({ at, problem: `suppression names unknown rule "${name}"` });
  }
  return ids;
}

/** The first element of an ascending list greater than `line`. */
function firstAfter(sorted: readonly number[], line: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! <= line) low = mid + 1;
    else high = mid;
  }
  return sorted[low];
}

/** Inline suppressions of a host's files: comment lines and comment matches. */
export function inlineSuppressions(host: Host, index: LineIndex, resolve: RuleResolver): { suppressions: Suppression[]; problems: PragmaProblem[] } {
  const suppressions: Suppression[] = [];
  const problems: PragmaProblem[] = [];
  for (const { ruleset } of host.views) {
    let ruleLines: number[] | undefined;
    for (const comment of ruleset.comments) {
      if (!comment.text.includes('dockfw-lint')) continue;
      const parsed = parsePragma(comment.text.replace(/^#/, ''));
      if (parsed === undefined) continue;
      if (typeof parsed === 'string') { problems.push({ at: comment.span, problem: parsed }); continue; }
      const ruleIds = resolveNames(parsed.names, resolve, comment.span, problems);
      if (parsed.global) {
        suppressions.push({
          origin: 'global', at: comment.span, ruleIds, written: parsed.names, reason: parsed.reason,
          file: ruleset.file, used: new Set(), where: `no finding in ${ruleset.file}`,
        });
        continue;
      }
      ruleLines ??= index.ruleLines(ruleset.file);
      const next = firstAfter(ruleLines, comment.span.line);
      suppressions.push({
        origin: 'line', at: comment.span, ruleIds, written: parsed.names, reason: parsed.reason,
        file: ruleset.file, line: next ?? -1, used: new Set(),
        where: next === undefined ? 'no rule line follows it' : `no finding on the next rule line (line ${next})`,
      });
    }
    for (const table of ruleset.tables) {
      for (const chain of table.chains) {
        for (const rule of chain.rules) {
          for (const match of rule.matches) {
            if (match.kind !== 'comment' || !match.comment.includes('dockfw-lint')) continue;
            const parsed = parsePragma(match.comment);
            if (parsed === undefined) continue;
            if (typeof parsed === 'string') { problems.push({ at: match.span, problem: parsed }); continue; }
            if (parsed.global) { problems.push({ at: match.span, problem: '"global ignore" is for comment lines; in a rule comment use "dockfw-lint ignore=…"' }); continue; }
            // Rules expanded from one line (`-s a,b`) share the comment: one suppression per line.
            if (suppressions.some((s) => s.origin === 'rule-comment' && s.file === ruleset.file && s.line === rule.span.line)) continue;
            const ruleIds = resolveNames(parsed.names, resolve, match.span, problems);
            suppressions.push({
              origin: 'rule-comment', at: match.span, ruleIds, written: parsed.names, reason: parsed.reason,
              file: ruleset.file, line: rule.span.line, used: new Set(), where: 'no finding on this rule',
            });
          }
        }
      }
    }
  }
  return { suppressions, problems };
}

export interface GlobMatcher {
  /** Whether the whole path matches (a leading `./` may be left out of the glob). */
  test(path: string): boolean;
}

/** One step of a compiled glob. */
type GlobToken =
  | { readonly kind: 'char'; readonly char: string }
  /** `?`: one character of a segment. */
  | { readonly kind: 'one' }
  /** `*`: any characters of a segment, none included. */
  | { readonly kind: 'segment' }
  /** `**`: any characters, slashes included (not line breaks, as a regex's `.`). */
  | { readonly kind: 'any' }
  /** `**\/`: nothing, or any characters up to and including a slash. */
  | { readonly kind: 'dirs' };

const isLineTerminator = (c: string): boolean => c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029';

/**
 * A `file` glob: `*` within a path segment, `**` across segments, `?` one character.
 * Matched by following every position of the glob at once (a Thompson NFA): time is
 * the path's length times the glob's, whatever the stars. A regex made of `[^/]*`s
 * backtracks exponentially on `*a*a*a*a*a*a*a*a*b` against a run of `a`s.
 */
export function compileGlob(glob: string): GlobMatcher {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const dirs = glob[i + 2] === '/';
      tokens.push({ kind: dirs ? 'dirs' : 'any' });
      i += dirs ? 2 : 1;
    } else if (c === '*') tokens.push({ kind: 'segment' });
    else if (c === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'char', char: c });
  }
  const matches = (path: string): boolean => {
    const n = tokens.length;
    // at[k]: the glob's first k tokens match the path read so far; inside[k]: ditto, within token k (a `**\/` before its slash).
    let at = new Uint8Array(n + 1);
    let inside = new Uint8Array(n + 1);
    let nextAt = new Uint8Array(n + 1);
    let nextInside = new Uint8Array(n + 1);
    const skipEmpty = (states: Uint8Array) => {
      for (let k = 0; k < n; k++) if (states[k] && tokens[k]!.kind !== 'char' && tokens[k]!.kind !== 'one') states[k + 1] = 1;
    };
    at[0] = 1;
    skipEmpty(at);
    for (let p = 0; p < path.length; p++) {
      const c = path[p]!;
      nextAt.fill(0);
      nextInside.fill(0);
      for (let k = 0; k < n; k++) {
        const token = tokens[k]!;
        if (at[k]) {
          switch (token.kind) {
            case 'char': if (c === token.char) nextAt[k + 1] = 1; break;
            case 'one': if (c !== '/') nextAt[k + 1] = 1; break;
            case 'segment': if (c !== '/') nextAt[k] = 1; break;
            case 'any': if (!isLineTerminator(c)) nextAt[k] = 1; break;
            case 'dirs': break;
          }
        }
        if (token.kind === 'dirs' && (at[k] || inside[k])) {
          if (!isLineTerminator(c)) nextInside[k] = 1;
          if (c === '/') nextAt[k + 1] = 1;
        }
      }
      skipEmpty(nextAt);
      [at, nextAt] = [nextAt, at];
      [inside, nextInside] = [nextInside, inside];
    }
    return at[n] === 1;
  };
  return { test: (path) => matches(path) || (path.startsWith('./') && matches(path.slice(2))) };
}

export function configSuppressions(
  entries: readonly ConfigSuppression[], resolve: RuleResolver, configFile: string, locate: (entry: number) => Span,
): Suppression[] {
  return entries.map((entry, i) => {
    const id = resolve(entry.rule) ?? entry.rule;
    const scope = [entry.file ? `in ${entry.file}` : undefined, entry.line ? `on line ${entry.line}` : undefined, entry.match ? `on rules matching "${entry.match}"` : undefined]
      .filter(Boolean).join(' ');
    return {
      origin: 'config' as const,
      at: locate(i),
      ruleIds: [id],
      written: [entry.rule],
      reason: entry.reason,
      fileGlob: entry.file ? compileGlob(entry.file.replace(/\\/g, '/')) : undefined,
      line: entry.line,
      match: entry.match,
      expires: entry.expires,
      used: new Set<string>(),
      where: `no finding ${scope || 'anywhere'} (${configFile})`,
    };
  });
}

export function isExpired(s: Suppression, today: string): boolean {
  return s.expires !== undefined && s.expires < today;
}

/** Does `s` cover `finding`? Marks it used when it does. */
export function applies(s: Suppression, finding: Pick<Finding, 'ruleId' | 'file' | 'line'>, index: LineIndex): boolean {
  if (!s.ruleIds.includes(finding.ruleId)) return false;
  if (s.file !== undefined && s.file !== finding.file) return false;
  if (s.fileGlob && !s.fileGlob.test(finding.file)) return false;
  if (s.line !== undefined && s.line !== finding.line) return false;
  if (s.match !== undefined) {
    const texts = index.rulesAt(finding.file, finding.line).map(ruleLineText);
    if (!texts.some((t) => t.includes(s.match!))) return false;
  }
  s.used.add(finding.ruleId);
  return true;
}

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}
