// The dockfw-lint executable: bundled by scripts/build.mjs into the code that
// dist/cli.mjs (scripts/cli-launcher.mjs) compiles and runs.
import { isFleetWorker, runFleetWorker } from '../fleet/worker.ts';
import { diffCommand } from './diff.ts';
import { graphCommand } from './graph.ts';
import { processIO } from './io.ts';
import { run } from './program.ts';

// Subcommands with a commander program of their own (see their files).
const own: Readonly<Record<string, typeof diffCommand>> = { diff: diffCommand, graph: graphCommand };

export async function main(): Promise<void> {
  // The same bundle is the fleet's worker thread (see src/fleet/): it lints slices instead of reading argv.
  if (isFleetWorker()) {
    await runFleetWorker();
    return;
  }
  const argv = process.argv.slice(2);
  const subcommand = argv[0] !== undefined && Object.hasOwn(own, argv[0]) ? own[argv[0]] : undefined;
  process.exitCode = subcommand ? await subcommand(argv.slice(1), processIO()) : await run(argv, processIO());
}
