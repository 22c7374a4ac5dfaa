// `dockfw-lint diff OLD NEW`: two files (or `-`), or two directories of host
// snapshots paired by name. Exit 1 when reachability widened, 0 otherwise,
// 2 for bad input. Also the small runner `graph` shares: a commander program
// of its own per subcommand, with the main program's error conventions.

import { statSync, writeFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Family, ParseError } from '../../grammar/ast.ts';
import { buildHosts } from '../engine/host.ts';
import { decideColour } from '../report/colour.ts';
import { formatParseError } from '../report/text.ts';
import pc from 'picocolors';
import { diffPair, diffSnapshots, fileKey, type SnapshotHost } from '../diff/index.ts';
import { DIFF_FORMATS, diffJson, diffMarkdown, diffText, type DiffFormat } from '../diff/render.ts';
import { collectInputs, displayPath } from './inputs.ts';
import { type CliIO, EXIT, UsageError } from './io.ts';

export interface HostOptionFlags {
  readonly extIf?: string[];
  readonly localAddr?: string[];
  readonly family?: Family;
  readonly color?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The host flags every inspection command takes, with the same names and meaning. */
export function withHostOptions(command: Command): Command {
  return command
    .option('--ext-if <iface>', 'an external interface (repeatable; default: any interface that is not a Docker bridge or lo)', collect)
    .option('--local-addr <addr>', "one of the host's own addresses (repeatable)", collect)
    .addOption(new Option('--family <family>', 'address family when neither header nor addresses tell').choices(['ipv4', 'ipv6']))
    .option('--color', 'force colour')
    .option('--no-color', 'no colour');
}

function debugging(io: CliIO): boolean {
  return (io.env.DEBUG ?? '').split(',').some((d) => d.trim() === 'dockfw-lint' || d.trim() === '*');
}

/**
 * Runs one subcommand's own commander program: help and version are exit 0,
 * usage errors exit 2 with one line, a bug is "internal error" (exit 2), never a stack trace.
 */
export async function runSubcommand(build: (exit: { code: number }) => Command, argv: readonly string[], io: CliIO): Promise<number> {
  const exit = { code: EXIT.clean as number };
  try {
    const command = build(exit);
    command.exitOverride();
    command.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
    command.showSuggestionAfterError(true);
    await command.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? EXIT.clean : EXIT.trouble;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`dockfw-lint: error: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return EXIT.trouble;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.stderr.write(`dockfw-lint: internal error: ${message}${debugging(io) ? '' : ' (set DEBUG=dockfw-lint for details; please report this bug)'}\n`);
    if (debugging(io) && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT.trouble;
  }
}

export function printParseErrors(io: CliIO, errors: readonly ParseError[], color: boolean | undefined): void {
  if (errors.length === 0) return;
  const c = pc.createColors(decideColour({ flag: color, env: io.env, isTTY: io.stderr.isTTY }));
  io.stderr.write(`${errors.map((e) => formatParseError(e, c)).join('\n')}\n`);
}

export function writeDocument(io: CliIO, document: string, outputFile: string | undefined): void {
  if (outputFile === undefined) {
    io.stdout.write(document);
    return;
  }
  try {
    writeFileSync(resolve(io.cwd, outputFile), document);
  } catch (error) {
    throw new UsageError(`cannot write ${outputFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function isDirectory(io: CliIO, path: string): boolean {
  if (path === '-') return false;
  try {
    return statSync(resolve(io.cwd, path)).isDirectory();
  } catch {
    return false;
  }
}

interface DiffFlags extends HostOptionFlags {
  readonly format?: DiffFormat;
  readonly outputFile?: string;
}

/** One side of the diff: its hosts, with file names relative to its root for pairing. */
function loadSide(path: string, flags: DiffFlags, io: CliIO): { hosts: SnapshotHost[]; errors: ParseError[]; failedKeys: Set<string> } {
  const collected = collectInputs([path], io);
  const built = buildHosts(collected.inputs, { externalInterfaces: flags.extIf ?? [], localAddresses: flags.localAddr ?? [] }, flags.family);
  const root = displayPath(io.cwd, path);
  const relative = (file: string) => (isDirectory(io, path) ? posix.relative(root, file) : file);
  const errors = [...collected.errors, ...built.errors];
  return {
    hosts: built.hosts.map((host) => ({ host, relativeFiles: host.files.map(relative) })),
    errors,
    failedKeys: new Set(errors.map((e) => fileKey(relative(e.span.file)))),
  };
}

export async function runDiff(oldPath: string, newPath: string, flags: DiffFlags, io: CliIO): Promise<number> {
  const directories = [isDirectory(io, oldPath), isDirectory(io, newPath)];
  if (directories[0] !== directories[1]) {
    throw new UsageError('diff compares two files or two directories, not a file with a directory',
      'give the old and new snapshot of one host, or two folders holding a snapshot per host (paired by file name)');
  }
  if (oldPath === '-' && newPath === '-') throw new UsageError('only one side of a diff can come from standard input');
  const before = loadSide(oldPath, flags, io);
  const after = loadSide(newPath, flags, io);
  const errors = [...before.errors, ...after.errors];
  printParseErrors(io, errors, flags.color);
  const options = { externalInterfaces: flags.extIf ?? [] };
  let result;
  if (directories[0]) {
    // A host that could not be read on either side is not compared (rather than reported as gone or new).
    const failed = new Set([...before.failedKeys, ...after.failedKeys]);
    const usable = (hosts: readonly SnapshotHost[]) => hosts.filter((h) => !h.relativeFiles.some((f) => failed.has(fileKey(f))));
    result = diffSnapshots(usable(before.hosts), usable(after.hosts), options);
  } else {
    if (errors.length > 0) return EXIT.trouble;
    const [oldHost, newHost] = [before.hosts, after.hosts].map((hosts, i) => {
      if (hosts.length !== 1) {
        throw new UsageError(`${i === 0 ? oldPath : newPath} holds ${hosts.length} hosts; diff of two files compares one host`,
          'a file may hold one iptables-save and one ip6tables-save; for many hosts give two directories');
      }
      return hosts[0]!.host;
    }) as [SnapshotHost['host'], SnapshotHost['host']];
    result = diffPair(oldHost, newHost, options);
  }
  const format = flags.format ?? 'text';
  const color = format === 'text' && flags.outputFile === undefined && decideColour({ flag: flags.color, env: io.env, isTTY: io.stdout.isTTY });
  const document = format === 'json' ? diffJson(result) : format === 'markdown' ? diffMarkdown(result) : diffText(result, color);
  writeDocument(io, document, flags.outputFile);
  if (errors.length > 0) return EXIT.trouble;
  return result.widened ? EXIT.findings : EXIT.clean;
}

const DIFF_HELP = `
Compares what is reachable, not text: newly reachable published ports, widened
source ranges, ports no longer reachable and the rules whose effect changed, each
with a witness packet's path. Reordered rules, counters and comments alone change nothing.
Exit codes: 0 reachability did not widen, 1 it widened, 2 bad input or usage.`;

export function buildDiffCommand(io: CliIO, exit: { code: number }): Command {
  const command = new Command('dockfw-lint diff')
    .description('compare what two snapshots of the same host(s) let in')
    .argument('<old>', 'the old iptables-save (or -), or a directory of host snapshots')
    .argument('<new>', 'the new iptables-save (or -), or a directory of host snapshots')
    .addOption(new Option('-f, --format <format>', 'output format').choices(DIFF_FORMATS).default('text'))
    .option('-o, --output-file <file>', 'write the report to a file instead of stdout')
    .addHelpText('after', DIFF_HELP);
  withHostOptions(command).action(async (oldPath: string, newPath: string, options: Record<string, unknown>) => {
    exit.code = await runDiff(oldPath, newPath, options as DiffFlags, io);
  });
  return command;
}

/** `dockfw-lint diff …` (argv without the word `diff`). */
export function diffCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return runSubcommand((exit) => buildDiffCommand(io, exit), argv, io);
}
