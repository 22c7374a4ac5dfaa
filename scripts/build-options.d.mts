// Types for build-options.mjs (plain JavaScript: scripts/build.mjs runs without a build step).
import type { BuildOptions } from 'esbuild';
export function cliBuildOptions(entry: string, outfile: string): BuildOptions;
export function libraryBuildOptions(entry: string, outfile: string): BuildOptions;
