// Scratch space for tests that run real processes: a temp folder holding
// given files, and the CLI bundled as scripts/build.mjs bundles it (into a
// temp folder: dist/ belongs to `npm run build`).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from './corpus-hosts.ts';

export async function bundleCli(prefix = 'dockfw-cli-'): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), prefix)), 'cli.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'src/cli/main.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}

/** A new temp folder holding `files` (relative path → text). */
export function scratchDir(files: Readonly<Record<string, string>>, prefix = 'dockfw-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
