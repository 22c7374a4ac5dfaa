// `dockfw-lint graph HOST --format mermaid|dot`: one host (an iptables-save,
// optionally with its ip6tables-save) drawn from its external interfaces to
// its published containers.

import { Command, Option } from 'commander';
import { buildHosts } from '../engine/host.ts';
import { buildGraph, GRAPH_FORMATS, toDot, toMermaid, type GraphFormat } from '../graph/index.ts';
import { type HostOptionFlags, printParseErrors, runSubcommand, withHostOptions, writeDocument } from './diff.ts';
import { collectInputs } from './inputs.ts';
import { type CliIO, EXIT, UsageError } from './io.ts';

interface GraphFlags extends HostOptionFlags {
  readonly format?: GraphFormat;
  readonly outputFile?: string;
}

export function runGraph(paths: readonly string[], flags: GraphFlags, io: CliIO): number {
  const collected = collectInputs(paths, io);
  const built = buildHosts(collected.inputs, { externalInterfaces: flags.extIf ?? [], localAddresses: flags.localAddr ?? [] }, flags.family);
  const errors = [...collected.errors, ...built.errors];
  printParseErrors(io, errors, flags.color);
  if (errors.length > 0) return EXIT.trouble;
  if (built.hosts.length !== 1) {
    throw new UsageError(`graph draws one host: an iptables-save, optionally with its ip6tables-save (got ${built.hosts.length} hosts)`,
      'pair files by name: web.v4.txt + web.v6.txt, or give one stream holding both');
  }
  const graph = buildGraph(built.hosts[0]!, { externalInterfaces: flags.extIf ?? [] });
  writeDocument(io, (flags.format ?? 'mermaid') === 'dot' ? toDot(graph) : toMermaid(graph), flags.outputFile);
  return EXIT.clean;
}

export function buildGraphCommand(io: CliIO, exit: { code: number }): Command {
  const command = new Command('dockfw-lint graph')
    .description('draw the paths from each external interface through nat and filter to each published container port, deciding rules highlighted')
    .argument('[paths...]', 'an iptables-save, optionally with its ip6tables-save (stdin when none, or -)')
    .addOption(new Option('-f, --format <format>', 'mermaid (GitHub renders it) or dot (Graphviz)').choices(GRAPH_FORMATS).default('mermaid'))
    .option('-o, --output-file <file>', 'write the graph to a file instead of stdout');
  withHostOptions(command).action((paths: string[], options: Record<string, unknown>) => {
    exit.code = runGraph(paths, options as GraphFlags, io);
  });
  return command;
}

/** `dockfw-lint graph …` (argv without the word `graph`). */
export function graphCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return runSubcommand((exit) => buildGraphCommand(io, exit), argv, io);
}
