// Mutations of real files from corpus/: byte flips, truncation, duplicated,
// deleted and swapped lines, inserted NUL, CRLF line ends, invalid UTF-8,
// hostile fragments and overlong lines. Applied to bytes, then decoded as the
// CLI decodes files (UTF-8, invalid sequences become U+FFFD) or as Latin-1 (so
// raw control bytes survive into the text).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';

/** The project root (the fuzz runner, bundled elsewhere, passes it in DOCKFW_LINT_ROOT). */
export const ROOT = process.env.DOCKFW_LINT_ROOT ?? join(import.meta.dirname, '..', '..');

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export interface CorpusFile {
  readonly name: string;
  readonly bytes: Buffer;
}

let cached: CorpusFile[] | undefined;

/** Every ruleset in corpus/ (valid and invalid ones). */
export function corpusFiles(): readonly CorpusFile[] {
  cached ??= walk(join(ROOT, 'corpus'))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => ({ name: relative(ROOT, f), bytes: readFileSync(f) }));
  return cached;
}

const FRAGMENTS = [
  '"', '!', ' ! ', ' -j ', '\n-A INPUT', '\n*filter\n', '\nCOMMIT\n', ':X - [0:0]', '#', '[0:0] ', '-m ', ' --dport ', '\\', '\t',
  ' -m comment --comment "${process.exit(1)}"', ' -j __proto__', '\n:constructor - [0:0]\n', '\u00ff', '\r', '\u001b[31m', '%0A::error::x',
  ' -s 10.0.0.0/33', ' -p tcp --dport 99999', '\n-N A\n-A A -j A\n', ' -g INPUT', '\n-X\n', '\n-E DOCKER D2\n', '\n-D INPUT 1\n', '\n-R INPUT 999 -j DROP\n',
  '\n-I INPUT 0\n', '\n-P INPUT QUEUE\n', '\uFEFF', ' -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', ' -m set --match-set',
];

const INVALID_UTF8: readonly number[][] = [
  [0xff], [0xfe], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf0, 0x9f, 0x98],
];

export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'byte'; readonly at: number; readonly value: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'duplicate-line'; readonly line: number; readonly times: number }
  | { readonly op: 'delete-line'; readonly line: number }
  | { readonly op: 'swap-lines'; readonly a: number; readonly b: number }
  | { readonly op: 'nul'; readonly at: number }
  | { readonly op: 'crlf'; readonly every: number }
  | { readonly op: 'invalid-utf8'; readonly at: number; readonly kind: number }
  | { readonly op: 'fragment'; readonly at: number; readonly fragment: number }
  | { readonly op: 'long-line'; readonly at: number; readonly length: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate-line' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('delete-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('nul' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('crlf' as const), every: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('invalid-utf8' as const), at: fc.nat(), kind: fc.nat(INVALID_UTF8.length - 1) }),
  fc.record({ op: fc.constant('fragment' as const), at: fc.nat(), fragment: fc.nat(FRAGMENTS.length - 1) }),
  fc.record({ op: fc.constant('long-line' as const), at: fc.nat(), length: fc.constantFrom(100, 5000, 70_000) }),
);

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) { lines.push(bytes.subarray(start, i + 1)); start = i + 1; }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

function insert(bytes: Buffer, at: number, extra: Buffer): Buffer {
  const position = bytes.length === 0 ? 0 : at % (bytes.length + 1);
  return Buffer.concat([bytes.subarray(0, position), extra, bytes.subarray(position)]);
}

export function applyMutation(bytes: Buffer, m: Mutation): Buffer {
  const at = (n: number) => (bytes.length === 0 ? 0 : n % bytes.length);
  switch (m.op) {
    case 'flip': {
      if (bytes.length === 0) return bytes;
      const copy = Buffer.from(bytes);
      const i = at(m.at);
      copy[i] = copy[i]! ^ (1 << m.bit);
      return copy;
    }
    case 'byte': {
      if (bytes.length === 0) return Buffer.from([m.value]);
      const copy = Buffer.from(bytes);
      copy[at(m.at)] = m.value;
      return copy;
    }
    case 'truncate':
      return bytes.subarray(0, bytes.length === 0 ? 0 : m.at % bytes.length);
    case 'duplicate-line': case 'delete-line': case 'swap-lines': {
      const lines = splitLines(bytes);
      if (lines.length === 0) return bytes;
      if (m.op === 'swap-lines') {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        return Buffer.concat(lines);
      }
      const i = m.line % lines.length;
      if (m.op === 'delete-line') lines.splice(i, 1);
      else lines.splice(i, 0, ...Array<Buffer>(m.times).fill(lines[i]!));
      return Buffer.concat(lines);
    }
    case 'nul':
      return insert(bytes, m.at, Buffer.from([0]));
    case 'crlf':
      return Buffer.concat(splitLines(bytes).map((line, i) => (i % m.every === 0 && line[line.length - 1] === 10 ? Buffer.concat([line.subarray(0, -1), Buffer.from('\r\n')]) : line)));
    case 'invalid-utf8':
      return insert(bytes, m.at, Buffer.from(INVALID_UTF8[m.kind]!));
    case 'fragment':
      return insert(bytes, m.at, Buffer.from(FRAGMENTS[m.fragment]!, 'utf8'));
    case 'long-line':
      return insert(bytes, m.at, Buffer.from(`-A INPUT -m comment --comment "${'x'.repeat(m.length)}" -j ACCEPT`));
  }
}

export interface MutatedFile {
  readonly name: string;
  readonly mutations: readonly Mutation[];
  readonly decoding: 'utf8' | 'latin1';
  readonly bytes: Buffer;
  readonly text: string;
}

export function mutatedFileArb(): fc.Arbitrary<MutatedFile> {
  const files = corpusFiles();
  return fc.record({
    file: fc.nat(files.length - 1),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    decoding: fc.constantFrom('utf8' as const, 'utf8' as const, 'utf8' as const, 'latin1' as const),
  }).map(({ file, mutations, decoding }) => {
    const source = files[file]!;
    const bytes = mutations.reduce(applyMutation, source.bytes);
    return { name: source.name, mutations, decoding, bytes, text: bytes.toString(decoding) };
  });
}

/** Lines as the lexer counts them: split at \n, a final \n ends the last line, a leading BOM is not text. */
export function lineCount(text: string): number {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (t.length === 0) return 0;
  return t.split('\n').length - (t.endsWith('\n') ? 1 : 0);
}

/** The text of line n (1-based) without its line end, as the lexer sees it. */
export function lineText(text: string, line: number): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raw = t.split('\n')[line - 1] ?? '';
  return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

/**
 * Why a text would trip a bug already reported and still open, if it would: the bounded run
 * in npm test skips such inputs; `npm run fuzz -- --known-bugs` keeps them. (None open today;
 * the counters-only line that gave an error at line NaN is fixed: see known-bugs.test.ts.)
 */
export function knownBugTrigger(_text: string): string | undefined {
  return undefined;
}
