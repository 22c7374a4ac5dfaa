// The command line (commander): the lint command with its flags, and the
// inspection subcommands. `run` never throws: usage, config and input problems
// are exit 2 with a one-line message; a bug is exit 2 with "internal error".

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { FORMATS } from '../report/types.ts';
import { formatConfigProblem } from '../config/load.ts';
import { runDocker, runExposure, runParse, runTrace } from './inspect.ts';
import { type CliIO, EXIT, UsageError, debugging } from './io.ts';
import { runLint } from './lint.ts';
import { ConfigFailure } from './settings.ts';
import { TOOL } from './tool.ts';

const THRESHOLDS = ['error', 'warning', 'info', 'none'] as const;

/** A flag, else its environment variable (CI wrappers set these), checked like the flag. */
function fromEnv<T extends string>(flag: string | undefined, variable: string, choices: readonly T[], io: CliIO): T | undefined {
  const value = flag ?? (io.env[variable] || undefined);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${variable}=${value} is not one of ${choices.join(', ')}`);
  return value as T;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function jobsOption(value: string): number {
  const jobs = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(jobs) || jobs < 1) throw new InvalidArgumentError('must be a whole number, 1 or more');
  return jobs;
}

function familyOption(): Option {
  return new Option('--family <family>', 'address family when neither header nor addresses tell').choices(['ipv4', 'ipv6']);
}

function hostOptions(command: Command): Command {
  return command
    .option('--ext-if <iface>', 'an external interface (repeatable; default: any interface that is not a Docker bridge or lo)', collect)
    .option('--local-addr <addr>', "one of the host's own addresses (repeatable)", collect)
    .addOption(familyOption());
}

function colourOptions(command: Command): Command {
  return command.option('--color', 'force colour').option('--no-color', 'no colour');
}

const HELP_AFTER = `
More commands (each with its own --help):
  diff [options] <old> <new>      what became reachable, or stopped being, between two snapshots
  graph [options] [paths...]      the paths from each interface to each container, as Mermaid or DOT

Exit codes: 0 no finding at or above the failure threshold, 1 findings at or above it,
2 usage error, invalid config, unreadable or unparseable input, or an internal error.
Config: .dockfw-lint.json in the working directory or above (or --config FILE).`;

/**
 * A subcommand's options, with the program's (given before the subcommand's name) where it has
 * none of its own. The program and its subcommands share option names (`--ext-if`, `--local-addr`,
 * `--family`, `--color`): with positional options each takes those written after its own name.
 */
function withGlobals(command: Command): never {
  const inherited: Record<string, unknown> = command.parent?.opts() ?? {};
  const own: Record<string, unknown> = command.opts();
  return { ...inherited, ...own } as never;
}

export function buildProgram(io: CliIO, exit: { code: number }): Command {
  const program = new Command('dockfw-lint');
  program
    // Without this the program would take `exposure --ext-if eth0`'s --ext-if for itself.
    .enablePositionalOptions()
    .description('Lints iptables-save dumps of Docker hosts: finds every filter a published container port bypasses.')
    .version(TOOL.version, '-V, --version')
    .argument('[paths...]', 'iptables-save files or directories (stdin when none, or -)')
    .addOption(new Option('-f, --format <format>', 'output format (default: text, or $DOCKFW_LINT_FORMAT)').choices(FORMATS))
    .addOption(new Option('--failure-threshold <severity>', 'exit 1 when a finding is at or above this severity (default: the config\'s failureThreshold, $DOCKFW_LINT_FAILURE_THRESHOLD, else error)').choices(THRESHOLDS))
    .option('-q, --quiet', 'report errors only (rules below error do not run)')
    .option('-o, --output-file <file>', 'write the report to a file instead of stdout')
    .option('-c, --config <file>', 'config file (default: .dockfw-lint.json found upward from the working directory)')
    .option('--stdin-filename <name>', 'the file name to report for standard input')
    .option('--disable-inline-suppressions', 'ignore "dockfw-lint ignore=" comments in rulesets')
    .option('--explain <rule>', "print a rule's documentation (id or name)")
    .option('--list-rules', 'list the rules with their default severity')
    .option('--baseline <file>', 'accept the findings listed in this baseline file; report its stale entries (DFW005)')
    .option('--write-baseline <file>', 'write the current findings to a baseline file and exit 0')
    .option('--jobs <n>', 'threads that lint more than 50 files: this one and n-1 workers (default: the number of CPUs)', jobsOption)
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], options: Record<string, unknown>) => {
      exit.code = await runLint(paths, {
        format: fromEnv(options.format as string | undefined, 'DOCKFW_LINT_FORMAT', FORMATS, io) ?? 'text',
        failureThreshold: fromEnv(options.failureThreshold as string | undefined, 'DOCKFW_LINT_FAILURE_THRESHOLD', THRESHOLDS, io),
        quiet: options.quiet as boolean | undefined,
        outputFile: options.outputFile as string | undefined,
        config: options.config as string | undefined,
        extIf: options.extIf as string[] | undefined,
        localAddr: options.localAddr as string[] | undefined,
        family: options.family as never,
        color: options.color as boolean | undefined,
        inlineSuppressions: options.disableInlineSuppressions ? false : undefined,
        stdinFilename: options.stdinFilename as string | undefined,
        explain: options.explain as string | undefined,
        listRules: options.listRules as boolean | undefined,
        baseline: options.baseline as string | undefined,
        writeBaseline: options.writeBaseline as string | undefined,
        jobs: options.jobs as number | undefined,
      }, io);
    });
  hostOptions(program);
  colourOptions(program);

  colourOptions(program.command('parse')
    .description('parse one file (or stdin) and print a summary, or the AST with --json')
    .argument('[file]', 'an iptables-save file (stdin when none, or -)')
    .option('--json', 'print the AST as JSON')
    .option('--stdin-filename <name>', 'the file name to report for standard input')
    .addOption(familyOption()))
    .action((file: string | undefined, _options: Record<string, unknown>, command: Command) => {
      exit.code = runParse(file, withGlobals(command), io);
    });

  colourOptions(hostOptions(program.command('docker')
    .description('print the Docker model recognised in the rulesets')
    .argument('[paths...]', 'iptables-save files (stdin when none)')
    .option('--json', 'print JSON')))
    .action((paths: string[], _options: Record<string, unknown>, command: Command) => {
      exit.code = runDocker(paths, withGlobals(command), io);
    });

  colourOptions(hostOptions(program.command('trace')
    .description('walk one packet through the ruleset as the kernel would')
    .argument('[paths...]', 'an iptables-save, optionally with its ip6tables-save (stdin when none)')
    .option('--in <iface>', 'interface the packet arrives on (default: the first --ext-if, else eth0)')
    .option('--src <addr>', 'source address')
    .option('--dst <addr>', 'destination address')
    .option('--proto <proto>', 'tcp, udp, icmp, icmpv6, sctp or a protocol number (default tcp)')
    .option('--dport <port>', 'destination port')
    .option('--sport <port>', 'source port')
    .option('--state <state>', 'conntrack state: NEW (default), ESTABLISHED, RELATED, INVALID, UNTRACKED')
    .option('--mark <mark>', 'packet mark (decimal or 0x hex)')
    .option('--from-host', 'a packet the host itself sends (the OUTPUT path)')
    .option('--json', 'print JSON')))
    .action((paths: string[], _options: Record<string, unknown>, command: Command) => {
      exit.code = runTrace(paths, withGlobals(command), io);
    });

  colourOptions(hostOptions(program.command('exposure')
    .description('for every published port, container and open host port: from where a new connection gets through')
    .argument('[paths...]', 'iptables-save files (stdin when none)')
    .option('--json', 'print JSON')))
    .action((paths: string[], _options: Record<string, unknown>, command: Command) => {
      exit.code = runExposure(paths, withGlobals(command), io);
    });

  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
    command.showSuggestionAfterError(true);
  }
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const exit = { code: EXIT.clean as number };
  try {
    await buildProgram(io, exit).parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; any other commander error is a usage error (its message is already printed).
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.clean;
      return EXIT.trouble;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`dockfw-lint: error: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return EXIT.trouble;
    }
    if (error instanceof ConfigFailure) {
      io.stderr.write(`${formatConfigProblem(error.problem)}\n`);
      return EXIT.trouble;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.stderr.write(`dockfw-lint: internal error: ${message}${debugging(io) ? '' : ' (set DEBUG=dockfw-lint for details; please report this bug)'}\n`);
    if (debugging(io) && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT.trouble;
  }
}
