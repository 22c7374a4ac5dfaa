// Splits a rule's arguments into words exactly as iptables-restore does
// (add_param_to_argv): double quotes may open and close anywhere in a word,
// a backslash escapes the next character only inside quotes, and the quotes
// themselves are not part of the value.

export interface Word {
  /** The value, unquoted and unescaped. */
  readonly value: string;
  /** 0-based offsets in the line: start inclusive, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** Whether any part of it was quoted: a quoted `!` is a value, not a negation. */
  readonly quoted: boolean;
}

export type SplitResult =
  | { readonly ok: true; readonly words: readonly Word[] }
  | { readonly ok: false; readonly words: readonly Word[]; readonly unterminatedAt: number };

export function splitWords(line: string, from: number, to: number = line.length): SplitResult {
  const words: Word[] = [];
  let i = from;
  while (i < to) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) { i++; continue; }
    const start = i;
    // Fast path: a plain word, the overwhelmingly common case.
    while (i < to) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 34) break;
      i++;
    }
    if (i >= to || c !== 34) {
      words.push({ value: line.slice(start, i), start, end: i, quoted: false });
      continue;
    }
    // Slow path: the word contains quotes.
    let value = line.slice(start, i);
    let inQuote = false;
    while (i < to) {
      c = line.charCodeAt(i);
      if (inQuote) {
        if (c === 92 /* \ */ && i + 1 < to) { value += line[i + 1]; i += 2; continue; }
        if (c === 34) { inQuote = false; i++; continue; }
        value += line[i];
        i++;
        continue;
      }
      if (c === 34) { inQuote = true; i++; continue; }
      if (c === 32 || c === 9) break;
      value += line[i];
      i++;
    }
    if (inQuote) {
      words.push({ value, start, end: i, quoted: true });
      return { ok: false, words, unterminatedAt: start };
    }
    words.push({ value, start, end: i, quoted: true });
  }
  return { ok: true, words };
}

/** Characters a value may hold unquoted: [A-Za-z0-9_.:/,+=@%^~], and `-` after the first. */
const PLAIN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/,+=@%^~') PLAIN_CHAR[c.charCodeAt(0)] = 1;

// A table scan, not a regex: it runs on every value of every rule when the AST is printed.
function isPlain(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128) return false;
    if (PLAIN_CHAR[c] === 0 && !(c === 45 /* - */ && i > 0)) return false;
  }
  return true;
}

/** Quote a value the way iptables-save does when it holds anything but [A-Za-z0-9_-]. */
export function quoteValue(value: string): string {
  if (isPlain(value)) return value;
  return `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}
