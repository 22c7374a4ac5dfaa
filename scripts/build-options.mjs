// How the CLI and the library are bundled: one place, used by scripts/build.mjs
// and by the tests that bundle the CLI into a scratch folder of their own.
//
// The CLI ships as one file because pre-commit runs it on every commit:
// resolving chevrotain through its package entry alone cost ~400 ms. V8 then
// pre-parses the whole file on every start, so what the CLI rarely needs stays
// out of it: ajv (180 KB with fast-uri) is imported from node_modules only when
// a config gives a rule options (src/config/resolve.ts).

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

/** The executable. `outfile` must lie inside the project, so that the external ajv resolves from its node_modules. */
export function cliBuildOptions(entry, outfile) {
  return {
    ...common,
    entryPoints: [entry],
    outfile,
    external: ['ajv'],
    banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  };
}

/** The library entry (parse, the simulator, the engine) for scripts and embedding. */
export function libraryBuildOptions(entry, outfile) {
  return { ...common, entryPoints: [entry], outfile };
}
