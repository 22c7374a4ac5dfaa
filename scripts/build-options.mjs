// How the CLI and the library are bundled: one place, used by scripts/build.mjs
// and by the tests that bundle the CLI into a scratch folder of their own.
//
// The CLI ships as one file because pre-commit runs it on every commit:
// resolving chevrotain through its package entry alone cost ~400 ms. Its code is
// compiled through V8's code cache (scripts/cli-launcher.mjs), which saves the
// parse and compile of ~750 KB on every start but the first; what the CLI
// rarely needs stays out of it all the same: ajv (180 KB with fast-uri) is
// imported from node_modules only when a config gives a rule options
// (src/config/resolve.ts).

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Options shared by both bundles. */
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifySyntax: true,
  // Whitespace too (1.27 → 0.96 MB): names are kept, so stack traces stay readable.
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
};

/** src/config/import-module.ts, in the CLI bundle: the loader's import() (see cli-launcher.mjs). */
const loaderImport = {
  name: 'loader-import',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]config[\\/]import-module\.ts$/ }, () => ({
      contents: 'export function importModule(specifier) { return __loaderImport(specifier); }',
      loader: 'js',
    }));
  },
};

/**
 * The executable: the CLI bundled as CommonJS, embedded as a string in the loader
 * (scripts/cli-launcher.mjs) that compiles it through V8's code cache. Still one file.
 * `outfile` must lie inside the project, so that the external ajv resolves from its node_modules.
 */
export async function buildCli(entry, outfile) {
  const result = await build({
    ...common,
    entryPoints: [entry],
    format: 'cjs',
    write: false,
    external: ['ajv'],
    // The loader hands the bundle its own file's URL and its import() (see cli-launcher.mjs).
    define: { 'import.meta.url': '__bundleUrl' },
    plugins: [loaderImport],
    banner: {},
    logLevel: 'error',
  });
  const code = result.outputFiles[0].text;
  // A function compiled from V8's code cache loses its import() in Node 20: every import()
  // must go through src/config/import-module.ts, which the loaderImport plugin hands to the loader.
  const stray = /(?<![\w$.])import\s*\(/.exec(code);
  if (stray) throw new Error(`the CLI bundle calls import() itself: ${code.slice(Math.max(0, stray.index - 80), stray.index + 40)}`);
  const launcher = readFileSync(new URL('./cli-launcher.mjs', import.meta.url), 'utf8');
  const buildId = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const text = `#!/usr/bin/env node\n${launcher
    .replace("/* @@SOURCE@@ */ ''", () => JSON.stringify(code))
    .replace("/* @@BUILD_ID@@ */ ''", () => JSON.stringify(buildId))}`;
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(outfile, text);
  chmodSync(outfile, 0o755);
}

/** The library entry (parse, the simulator, the engine) for scripts and embedding. */
export function libraryBuildOptions(entry, outfile) {
  return { ...common, entryPoints: [entry], outfile };
}
