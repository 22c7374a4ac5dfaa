// Bundles the CLI (dist/cli.mjs) and the library (dist/index.mjs); see build-options.mjs for how and why.
import { build } from 'esbuild';
import { buildCli, libraryBuildOptions } from './build-options.mjs';

await Promise.all([
  buildCli('src/cli/main.ts', 'dist/cli.mjs'),
  build(libraryBuildOptions('src/index.ts', 'dist/index.mjs')),
]);
