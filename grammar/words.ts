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

interface WordSlot { value: string; start: number; end: number; quoted: boolean }

/**
 * Word slots reused from line to line: splitting a 170k-rule file into fresh
 * objects made a fifth of the parser's garbage. `words` may be longer than the
 * last line split; only the first `count` are that line's.
 */
export class WordBuffer {
  readonly words: Word[] = [];
  count = 0;
  /** Where an unterminated quote began, or -1. */
  unterminatedAt = -1;

  /** Splits `line[from, to)` into the buffer; false on an unterminated quote. */
  split(line: string, from: number, to: number = line.length): boolean {
    this.count = 0;
    this.unterminatedAt = scanWords(line, from, to, this);
    return this.unterminatedAt === -1;
  }

  add(value: string, start: number, end: number, quoted: boolean): void {
    const slot = this.words[this.count] as WordSlot | undefined;
    if (slot === undefined) (this.words as WordSlot[]).push({ value, start, end, quoted });
    else { slot.value = value; slot.start = start; slot.end = end; slot.quoted = quoted; }
    this.count++;
  }
}

/** Feeds the words of `line[from, to)` to `sink`; returns where an unterminated quote began, or -1. */
function scanWords(line: string, from: number, to: number, sink: WordBuffer): number {
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
      sink.add(line.slice(start, i), start, i, false);
      continue;
    }
    // Slow path: the word contains quotes. Runs of ordinary characters are sliced whole
    // (appending one character at a time made a string per character of every comment).
    let value = line.slice(start, i);
    let inQuote = false;
    let run = i;
    while (i < to) {
      c = line.charCodeAt(i);
      if (inQuote) {
        if (c === 92 /* \ */ && i + 1 < to) { value += line.slice(run, i) + line[i + 1]; i += 2; run = i; continue; }
        if (c === 34) { value += line.slice(run, i); inQuote = false; i++; run = i; continue; }
        i++;
        continue;
      }
      if (c === 34) { value += line.slice(run, i); inQuote = true; i++; run = i; continue; }
      if (c === 32 || c === 9) break;
      i++;
    }
    value += line.slice(run, i);
    sink.add(value, start, i, true);
    if (inQuote) return start;
  }
  return -1;
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
