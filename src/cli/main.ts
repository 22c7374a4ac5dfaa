// The dockfw-lint executable (bundled into dist/cli.mjs by scripts/build.mjs).
import { processIO } from './io.ts';
import { run } from './program.ts';

process.exitCode = await run(process.argv.slice(2), processIO());
