// Types for build-options.mjs (plain JavaScript: scripts/build.mjs runs without a build step).
import type { BuildOptions } from 'esbuild';
/** Bundles the CLI into `outfile`: the loader with the CommonJS bundle embedded (see build-options.mjs). */
export function buildCli(entry: string, outfile: string): Promise<void>;
export function libraryBuildOptions(entry: string, outfile: string): BuildOptions;
