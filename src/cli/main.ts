// The dockfw-lint executable (bundled into dist/cli.mjs by scripts/build.mjs).
import { isFleetWorker, runFleetWorker } from '../fleet/worker.ts';
import { diffCommand } from './diff.ts';
import { graphCommand } from './graph.ts';
import { processIO } from './io.ts';
import { run } from './program.ts';

// Subcommands with a commander program of their own (see their files).
const own: Readonly<Record<string, typeof diffCommand>> = { diff: diffCommand, graph: graphCommand };
const argv = process.argv.slice(2);
const subcommand = argv[0] !== undefined && Object.hasOwn(own, argv[0]) ? own[argv[0]] : undefined;
// The same bundle is the fleet's worker thread (see src/fleet/): it lints slices instead of reading argv.
if (isFleetWorker()) await runFleetWorker();
else process.exitCode = subcommand ? await subcommand(argv.slice(1), processIO()) : await run(argv, processIO());
