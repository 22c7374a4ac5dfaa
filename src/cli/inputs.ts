// Which texts to read: files as given, directories walked in sorted order
// (snapshot-looking files only), stdin when nothing is given or for `-`.
// Every path is shown relative to the working directory, with `/`.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ParseError } from '../../grammar/ast.ts';
import type { HostInput } from '../engine/host.ts';
import { type CliIO, UsageError } from './io.ts';

/** Files a directory walk picks up: iptables-save snapshots by their usual names. */
export const SNAPSHOT_FILE = /\.(txt|rules|v4|v6|ipv4|ipv6|iptables|ip6tables|save|dump)$|(^|[._-])ip6?tables(-save)?$/i;

export const STDIN_NAME = '<stdin>';

export function displayPath(cwd: string, path: string): string {
  const absolute = isAbsolute(path) ? path : resolve(cwd, path);
  const rel = relative(cwd, absolute) || '.';
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && SNAPSHOT_FILE.test(entry.name)) out.push(path);
  }
}

export interface CollectedInputs {
  readonly inputs: readonly HostInput[];
  /** Files that could not be read, as errors at line 1. */
  readonly errors: readonly ParseError[];
  /** Every input's display name, sorted (read or not). */
  readonly files: readonly string[];
}

function readError(file: string, error: unknown): ParseError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code ?? String(error);
  return { span: { file, line: 1, column: 1, endColumn: 1 }, message: `cannot read the file: ${reason}` };
}

/** Reads every input; unreadable files become errors, the others are still checked. */
export function collectInputs(paths: readonly string[], io: CliIO, stdinFilename?: string): CollectedInputs {
  const inputs = new Map<string, HostInput>();
  const errors: ParseError[] = [];
  const readStdin = () => {
    const name = stdinFilename ? displayPath(io.cwd, stdinFilename) : STDIN_NAME;
    if (inputs.has(name)) return;
    const text = io.readStdin();
    if (text === undefined) throw new UsageError('no input: give files or directories, or pipe an iptables-save into standard input', 'dockfw-lint --help shows the usage');
    inputs.set(name, { file: name, text });
  };
  if (paths.length === 0) readStdin();
  for (const path of paths) {
    if (path === '-') { readStdin(); continue; }
    const absolute = resolve(io.cwd, path);
    let files: string[];
    try {
      files = statSync(absolute).isDirectory() ? [] : [absolute];
      if (files.length === 0) walk(absolute, files);
    } catch (error) {
      errors.push(readError(displayPath(io.cwd, path), error));
      continue;
    }
    for (const file of files) {
      const name = displayPath(io.cwd, file);
      if (inputs.has(name)) continue;
      try {
        inputs.set(name, { file: name, text: readFileSync(file, 'utf8') });
      } catch (error) {
        errors.push(readError(name, error));
      }
    }
  }
  const sorted = [...inputs.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const files = [...new Set([...sorted.map((i) => i.file), ...errors.map((e) => e.span.file)])].sort();
  return { inputs: sorted, errors, files };
}
