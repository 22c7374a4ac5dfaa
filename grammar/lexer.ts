// A hand-written, line-oriented lexer that feeds the Chevrotain parser.
//
// iptables-save output is one statement per line and the first word decides
// the statement's kind, so the lexer classifies each line and emits a handful
// of coarse tokens (a whole command line is one `CommandLine` token). A regex
// lexer over every word measured 3–4× slower on a 170k-rule dump, and the
// arguments need iptables-restore's own quoting rules anyway (see words.ts).

import { createToken, createTokenInstance, type IToken, type TokenType } from 'chevrotain';

export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/ });
export const TableHeader = createToken({ name: 'TableHeader', pattern: /\*[^\s]*/ });
export const ChainDecl = createToken({ name: 'ChainDecl', pattern: /:[^\s]*/ });
export const Commit = createToken({ name: 'Commit', pattern: /COMMIT/ });
export const Counters = createToken({ name: 'Counters', pattern: /\[[^\]\s]*\]/ });
export const Word = createToken({ name: 'Word', pattern: /[^\s]+/ });
/**
 * A whole command line (`[counters] -A CHAIN [number] options…`), split by the
 * lexer: every such line already fits the grammar, and it is nine lines in ten,
 * so one token carrying the split parts (`payload`) replaces five.
 */
export const CommandLine = createToken({ name: 'CommandLine', pattern: /-[^\n]*/ });

/**
 * A well-formed chain line (`:NAME POLICY [packets:bytes]`), split by the lexer
 * like a command line: a kube-proxy dump declares 60,000 chains. Anything else
 * after a `:` takes the token-by-token path, where the parser reports it.
 */
export const ChainLine = createToken({ name: 'ChainLine', pattern: /:[^\n]*/ });

export const allTokens: TokenType[] = [Newline, Comment, TableHeader, ChainDecl, Commit, Counters, Word, CommandLine, ChainLine];

export interface ChainStatement {
  readonly kind: 'chain';
  readonly name: string;
  readonly at: Place;
  readonly policy?: string;
  readonly policyAt?: Place;
  readonly counters?: string;
  readonly extra?: Place;
}

/** Column positions are 1-based; `end` is exclusive. */
export interface Place {
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
}

export type CommandName = 'A' | 'I' | 'R' | 'D' | 'N' | 'P' | 'F' | 'X' | 'Z' | 'E';

export interface CommandStatement {
  readonly kind: 'command';
  readonly command: CommandName;
  readonly at: Place;
  readonly counters?: string;
  readonly chain?: string;
  readonly chainAt?: Place;
  readonly ruleNumber?: number;
  readonly ruleNumberAt?: Place;
  /** The argument text and the 0-based column where it starts in its line. */
  readonly args?: string;
  readonly argsColumn?: number;
}

type NumberRule = 'number-optional' | 'number-required' | 'no-number';

/** Commands that take a chain name: which command, and whether a rule number may follow it. */
const CHAIN_COMMANDS: ReadonlyMap<string, { readonly name: CommandName; readonly number: NumberRule }> = new Map([
  ['-A', 'A', 'no-number'], ['--append', 'A', 'no-number'],
  ['-I', 'I', 'number-optional'], ['--insert', 'I', 'number-optional'],
  ['-R', 'R', 'number-required'], ['--replace', 'R', 'number-required'],
  ['-D', 'D', 'number-optional'], ['--delete', 'D', 'number-optional'],
  ['-N', 'N', 'no-number'], ['--new-chain', 'N', 'no-number'], ['--new', 'N', 'no-number'],
  ['-P', 'P', 'no-number'], ['--policy', 'P', 'no-number'],
  ['-F', 'F', 'no-number'], ['--flush', 'F', 'no-number'],
  ['-X', 'X', 'no-number'], ['--delete-chain', 'X', 'no-number'],
  ['-Z', 'Z', 'no-number'], ['--zero', 'Z', 'no-number'],
  ['-E', 'E', 'no-number'], ['--rename-chain', 'E', 'no-number'],
].map(([word, name, number]) => [word!, { name: name as CommandName, number: number as NumberRule }]));

export interface LexError {
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  readonly message: string;
  readonly found?: string;
  readonly expected?: string;
  readonly hint?: string;
}

export interface LexResult {
  readonly tokens: IToken[];
  /** The text of every line, 1-based index, for error excerpts and argument splitting. */
  readonly lines: readonly string[];
  readonly errors: readonly LexError[];
}

/** A line longer than this is rejected rather than scanned: iptables-restore itself reads lines into a fixed buffer. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * A token standing for a whole line, its split parts as `payload`. Built as one
 * literal with the payload in place: adding it to a made token gave every such
 * token a separate property store.
 */
function lineToken(type: TokenType, image: string, offset: number, line: number, column: number, payload: CommandStatement | ChainStatement): IToken {
  return {
    image, startOffset: offset, endOffset: offset + image.length - 1,
    startLine: line, endLine: line, startColumn: column, endColumn: column + image.length - 1,
    tokenType: type, tokenTypeIdx: type.tokenTypeIdx!, payload,
  };
}

function token(type: TokenType, image: string, offset: number, line: number, column: number): IToken {
  return createTokenInstance(type, image, offset, offset + image.length - 1, line, line, column, column + image.length - 1);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function nextWordEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && !isSpace(text.charCodeAt(i))) i++;
  return i;
}

export function skipSpaces(text: string, from: number): number {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Where `text` ends once trailing spaces and tabs after `from` are dropped. */
export function contentEnd(text: string, from: number): number {
  let end = text.length;
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** The first control character (other than tab) in a line, or -1. */
function controlCharacterAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return i;
  }
  return -1;
}

/** The input split into lines (1-based: `lines[0]` is unused), with each line's offset. */
export interface Lines {
  readonly lines: readonly string[];
  readonly offsets: readonly number[];
  readonly errors: readonly LexError[];
  /** False when the input holds no control character but tab and line ends: lines need no check of their own. */
  readonly mayHoldControlCharacters: boolean;
}

/** Any control character but tab and line feed (a carriage return inside a line is one). One pass of the regex engine over the whole input is far cheaper than a JavaScript loop over every line. */
const ANY_CONTROL_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f]/;

export function splitLines(input: string): Lines {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines: string[] = [''];
  const offsets: number[] = [0];
  const errors: LexError[] = [];
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart < text.length) {
    lineNumber++;
    let lineEnd = text.indexOf('\n', lineStart);
    const next = lineEnd === -1 ? text.length : lineEnd + 1;
    if (lineEnd === -1) lineEnd = text.length;
    let contentEnd = lineEnd;
    if (contentEnd > lineStart && text.charCodeAt(contentEnd - 1) === 13) contentEnd--;
    offsets.push(lineStart);
    if (contentEnd - lineStart > MAX_LINE_LENGTH) {
      lines.push('');
      errors.push({
        line: lineNumber, column: 1, endColumn: 2,
        message: `line is ${contentEnd - lineStart} characters long`,
        expected: `at most ${MAX_LINE_LENGTH} characters per line`,
        hint: 'iptables-save never writes lines this long; is this really a saved ruleset?',
      });
    } else {
      lines.push(text.slice(lineStart, contentEnd));
    }
    lineStart = next;
  }
  return { lines, offsets, errors, mayHoldControlCharacters: ANY_CONTROL_CHARACTER.test(text) };
}

/** Tokens for lines `from` to `to` (inclusive, 1-based); each line ends with a Newline token. */
export function lexLines(source: Lines, from: number, to: number, errors: LexError[]): IToken[] {
  const tokens: IToken[] = [];
  for (let lineNumber = from; lineNumber <= to; lineNumber++) {
    const line = source.lines[lineNumber]!;
    const offset = source.offsets[lineNumber]!;
    // A CommandLine or ChainLine token ends its own statement; every other line ends with a Newline token.
    if (lexLine(line, offset, lineNumber, tokens, errors, source.mayHoldControlCharacters)) continue;
    tokens.push(token(Newline, '\n', offset + line.length, lineNumber, line.length + 1));
  }
  return tokens;
}

/** The whole input at once (tests, tools); `parse` lexes in chunks to bound memory. */
export function lex(input: string): LexResult {
  const source = splitLines(input);
  const errors = [...source.errors];
  const tokens = lexLines(source, 1, source.lines.length - 1, errors);
  return { tokens, lines: source.lines, errors };
}

/** Lexes one line into `tokens`; true when it emitted a self-terminating CommandLine or ChainLine token. */
function lexLine(line: string, offset: number, lineNumber: number, tokens: IToken[], errors: LexError[], checkControl: boolean): boolean {
  let i = skipSpaces(line, 0);
  if (i >= line.length) {
    if (line.length > 0) {
      errors.push({
        line: lineNumber, column: 1, endColumn: line.length + 1,
        message: 'line holds only white space',
        expected: 'an empty line or a statement',
        hint: 'iptables-restore refuses lines of only spaces or tabs; delete the white space',
      });
    }
    return false;
  }
  const first = line.charCodeAt(i);
  if (first === 35 /* # */) {
    emit({ line, offset, lineNumber, tokens }, Comment, i, line.length);
    return false;
  }
  const bad = checkControl ? controlCharacterAt(line) : -1;
  if (bad !== -1) {
    errors.push({
      line: lineNumber, column: bad + 1, endColumn: bad + 2,
      message: `unexpected control character U+${line.charCodeAt(bad).toString(16).padStart(4, '0').toUpperCase()}`,
      found: 'a control character',
      expected: 'printable text',
      hint: 'the file may be binary or corrupted; iptables-save output is plain text',
    });
    return false;
  }
  if (first === 42 /* * */) {
    const here: LineAt = { line, offset, lineNumber, tokens };
    const end = nextWordEnd(line, i);
    emit(here, TableHeader, i, end);
    emitRestAsWords(here, end);
    return false;
  }
  if (first === 58 /* : */) {
    const end = nextWordEnd(line, i);
    const policyStart = skipSpaces(line, end);
    const policyEnd = nextWordEnd(line, policyStart);
    const countersStart = skipSpaces(line, policyEnd);
    const countersEnd = nextWordEnd(line, countersStart);
    const hasCounters = countersStart < line.length;
    if (policyStart < line.length && skipSpaces(line, countersEnd) >= line.length && (!hasCounters || isCounters(line, countersStart, countersEnd))) {
      const statement: ChainStatement = {
        kind: 'chain', name: line.slice(i + 1, end), at: { line: lineNumber, column: i + 1, endColumn: end + 1 },
        policy: line.slice(policyStart, policyEnd), policyAt: { line: lineNumber, column: policyStart + 1, endColumn: policyEnd + 1 },
        counters: hasCounters ? line.slice(countersStart, countersEnd) : undefined,
      };
      tokens.push(lineToken(ChainLine, ':', offset + i, lineNumber, i + 1, statement));
      return true;
    }
    const here: LineAt = { line, offset, lineNumber, tokens };
    emit(here, ChainDecl, i, end);
    let j = skipSpaces(line, end);
    if (j < line.length) {
      const policyEnd = nextWordEnd(line, j);
      emit(here, Word, j, policyEnd);
      j = skipSpaces(line, policyEnd);
      if (j < line.length && line.charCodeAt(j) === 91 /* [ */) {
        const countersEnd = nextWordEnd(line, j);
        if (isCounters(line, j, countersEnd)) {
          emit(here, Counters, j, countersEnd);
          j = countersEnd;
        }
      }
      emitRestAsWords(here, j);
    }
    return false;
  }
  let counters: string | undefined;
  if (first === 91 /* [ */) {
    const end = nextWordEnd(line, i);
    if (!/^\[[^\]\s]*\]$/.test(line.slice(i, end))) {
      errors.push({
        line: lineNumber, column: i + 1, endColumn: end + 1,
        message: `malformed counters "${line.slice(i, end)}"`,
        found: line.slice(i, end),
        expected: 'counters as [packets:bytes]',
      });
      return false;
    }
    const next = skipSpaces(line, end);
    const command = line.slice(next, nextWordEnd(line, next));
    if (!CHAIN_COMMANDS.has(command)) {
      // Counters only prefix a rule command; anything else would leave the parser guessing.
      errors.push({
        line: lineNumber, column: next + 1, endColumn: Math.max(next, nextWordEnd(line, next)) + 1,
        message: command === '' ? 'counters without a command' : `unexpected "${command}" after counters`,
        found: command === '' ? 'end of line' : command,
        expected: 'a command after [packets:bytes], e.g. -A CHAIN …',
      });
      return false;
    }
    counters = line.slice(i, end);
    i = next;
  }
  const wordEnd = nextWordEnd(line, i);
  const firstWord = line.slice(i, wordEnd);
  if (firstWord === 'COMMIT') {
    if (wordEnd < line.length && skipSpaces(line, wordEnd) >= line.length) {
      // iptables-restore compares the whole line with "COMMIT".
      errors.push({
        line: lineNumber, column: wordEnd + 1, endColumn: line.length + 1,
        message: 'white space after COMMIT',
        found: 'trailing white space', expected: 'COMMIT alone on its line',
        hint: 'iptables-restore does not recognise "COMMIT " with trailing blanks; delete them',
      });
      return false;
    }
    const here: LineAt = { line, offset, lineNumber, tokens };
    emit(here, Commit, i, wordEnd);
    emitRestAsWords(here, wordEnd);
    return false;
  }
  const command = CHAIN_COMMANDS.get(firstWord);
  if (command === undefined) {
    const looksLikeOption = firstWord.startsWith('-');
    errors.push({
      line: lineNumber, column: i + 1, endColumn: wordEnd + 1,
      message: looksLikeOption ? `unknown command "${firstWord}"` : `unexpected "${firstWord}" at the start of a line`,
      found: firstWord,
      expected: 'a comment (#), a table (*filter), a chain (:NAME POLICY), a command (-A, -I, -N, -P, -F, -X, -D, -R, -Z, -E) or COMMIT',
      hint: looksLikeOption ? 'iptables-restore accepts only chain commands here; options belong after "-A CHAIN"' : undefined,
    });
    return false;
  }
  const at: Place = { line: lineNumber, column: i + 1, endColumn: wordEnd + 1 };
  let chain: string | undefined;
  let chainAt: Place | undefined;
  let ruleNumber: number | undefined;
  let ruleNumberAt: Place | undefined;
  let args: string | undefined;
  let argsColumn: number | undefined;
  let j = skipSpaces(line, wordEnd);
  if (j < line.length) {
    const chainEnd = nextWordEnd(line, j);
    chain = line.slice(j, chainEnd);
    chainAt = { line: lineNumber, column: j + 1, endColumn: chainEnd + 1 };
    j = skipSpaces(line, chainEnd);
    if (j < line.length && command.number !== 'no-number') {
      const numberEnd = nextWordEnd(line, j);
      if (isDigits(line, j, numberEnd)) {
        ruleNumber = Number(line.slice(j, numberEnd));
        ruleNumberAt = { line: lineNumber, column: j + 1, endColumn: numberEnd + 1 };
        j = skipSpaces(line, numberEnd);
      }
    }
    if (j < line.length) {
      const end = contentEnd(line, j);
      args = line.slice(j, end);
      argsColumn = j;
    }
  }
  const statement: CommandStatement = {
    kind: 'command', command: command.name, at, counters, chain, chainAt, ruleNumber, ruleNumberAt, args, argsColumn,
  };
  tokens.push(lineToken(CommandLine, firstWord, offset + i, lineNumber, i + 1, statement));
  return true;
}

/** `[…]` with no `]` before its end, as the token path's Counters token. */
function isCounters(line: string, from: number, to: number): boolean {
  if (to - from < 2 || line.charCodeAt(from) !== 91 /* [ */ || line.charCodeAt(to - 1) !== 93 /* ] */) return false;
  for (let k = from + 1; k < to - 1; k++) if (line.charCodeAt(k) === 93) return false;
  return true;
}

function isDigits(line: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let k = from; k < to; k++) {
    const c = line.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The line being lexed, for the token helpers below. */
interface LineAt {
  readonly line: string;
  readonly offset: number;
  readonly lineNumber: number;
  readonly tokens: IToken[];
}

function emit(at: LineAt, type: TokenType, start: number, end: number): void {
  at.tokens.push(token(type, at.line.slice(start, end), at.offset + start, at.lineNumber, start + 1));
}

function emitRestAsWords(at: LineAt, from: number): void {
  const { line } = at;
  let j = skipSpaces(line, from);
  while (j < line.length) {
    const end = nextWordEnd(line, j);
    emit(at, Word, j, end);
    j = skipSpaces(line, end);
  }
}
