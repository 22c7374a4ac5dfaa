// Bundles the CLI (dist/cli.mjs) and the library (dist/index.mjs); see build-options.mjs for how and why.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { cliBuildOptions, libraryBuildOptions } from './build-options.mjs';

await Promise.all([
  build(cliBuildOptions('src/cli/main.ts', 'dist/cli.mjs')),
  build(libraryBuildOptions('src/index.ts', 'dist/index.mjs')),
]);
chmodSync('dist/cli.mjs', 0o755);
