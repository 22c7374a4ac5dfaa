#!/usr/bin/env node
// `npm run corpus:update`: regenerates corpus/**/*.expected.json, the golden
// findings test/corpus-golden.test.ts compares against. The only way they
// should change: run it, then review `git diff corpus/` like any other code.
//
// It bundles test/corpus-golden.shared.ts (the very code the test runs) with
// esbuild into a temporary module and calls it, so both agree by construction.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dockfw-corpus-update-'));
const outfile = join(scratch, 'golden.mjs');
try {
  await build({
    entryPoints: [join(root, 'test/corpus-golden.shared.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const { writeGoldens } = await import(pathToFileURL(outfile).href);
  const { written, removed, unchanged } = writeGoldens(root);
  for (const file of written) console.log(`updated ${file}`);
  for (const file of removed) console.log(`removed ${file} (no such corpus host any more)`);
  console.log(`${written.length} updated, ${removed.length} removed, ${unchanged} unchanged.`);
  if (written.length + removed.length > 0) {
    const stat = spawnSync('git', ['status', '--short', '--', 'corpus'], { cwd: root, encoding: 'utf8' });
    if (stat.status === 0 && stat.stdout) console.log(`\n${stat.stdout.trimEnd()}`);
    console.log('\nReview the changes (git diff corpus/) before committing: every changed finding should be one you meant.');
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
