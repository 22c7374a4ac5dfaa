#!/usr/bin/env node
// `npm run fuzz [-- options]`: the property-based tests of test/properties with a random
// seed and many runs, for --minutes N (default 5). Builds dist/ first (the CLI the
// properties' in-process runs mirror), then bundles scripts/fuzz/main.ts — which imports the
// same property catalogue npm test runs — with esbuild, and runs it. `--help` lists the options.
//
// Reproduce a failure with the `replay:` line it prints:
//   npm run fuzz -- --only round-trip --replay SEED:PATH
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 2);

const dir = mkdtempSync(join(tmpdir(), 'dockfw-fuzz-'));
const bundle = join(dir, 'fuzz.mjs');
const entry = join(dir, 'entry.mjs');
try {
  await build({
    entryPoints: [join(ROOT, 'scripts/fuzz/main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  // A separate entry file: bundled modules that run a CLI when they are argv[1] (scripts/gen) stay quiet.
  writeFileSync(entry, `await import(${JSON.stringify(bundle)});\n`);
  const run = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, DOCKFW_LINT_ROOT: ROOT, DOCKFW_FUZZ_ENTRY: entry },
  });
  process.exitCode = run.status ?? 2;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
