// The text a baseline entry shows reviewers: the line a finding is on, as the
// snapshot has it, with counters removed and the table in front. Only for
// reading; the key is the fingerprint.

const COUNTERS_FIRST = /^\[\d+:\d+\]\s+/;
const INLINE_COUNTERS = /\s-c\s+\d+\s+\d+(?=\s|$)/;

/** `[12:345] -A INPUT …` → `-A INPUT …`; `:INPUT ACCEPT [0:0]` → `:INPUT ACCEPT`; blanks collapsed. */
export function withoutCounters(line: string): string {
  return withoutTrailingCounters(line.replace(COUNTERS_FIRST, '')).replace(INLINE_COUNTERS, '').replace(/\s+/g, ' ').trim();
}

const isBlank = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * The line without a final `[packets:bytes]` and the blanks around it (`\s+\[\d+:\d+\]\s*$`).
 * Read backwards from the end: an unanchored `\s+` would restart at every blank of a long run.
 */
function withoutTrailingCounters(line: string): string {
  let i = line.length - 1;
  while (isBlank(line[i])) i--;
  if (line[i--] !== ']') return line;
  const bytesEnd = i;
  while (isDigit(line[i])) i--;
  if (i === bytesEnd || line[i--] !== ':') return line;
  const packetsEnd = i;
  while (isDigit(line[i])) i--;
  if (i === packetsEnd || line[i] !== '[' || !isBlank(line[i - 1])) return line;
  while (isBlank(line[i - 1])) i--;
  return line.slice(0, i);
}

/** Lines of the inputs, split on first use. */
export class SourceLines {
  private readonly split = new Map<string, readonly string[]>();

  constructor(private readonly texts: ReadonlyMap<string, string>) {}

  private lines(file: string): readonly string[] | undefined {
    let lines = this.split.get(file);
    if (!lines) {
      const text = this.texts.get(file);
      if (text === undefined) return undefined;
      lines = text.split(/\r?\n/);
      this.split.set(file, lines);
    }
    return lines;
  }

  /** `[filter] -A DOCKER-USER -j RETURN`, or undefined when the file or line is not there. */
  subject(file: string, line: number): string | undefined {
    const lines = this.lines(file);
    const text = lines?.[line - 1];
    if (lines === undefined || text === undefined) return undefined;
    let table: string | undefined;
    for (let i = line - 1; i >= 0; i--) {
      const m = /^\*(\S+)/.exec(lines[i]!);
      if (m) { table = m[1]; break; }
      if (i < line - 1 && /^COMMIT\b/.test(lines[i]!)) break;
    }
    const shown = withoutCounters(text);
    return table && !shown.startsWith('*') && !shown.startsWith('#') ? `[${table}] ${shown}` : shown;
  }
}
