// Scratch space for tests that run real processes: a temp folder holding
// given files, and the CLI bundled exactly as scripts/build.mjs bundles it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildCli } from '../scripts/build-options.mjs';
import { REPO_ROOT } from './corpus-hosts.ts';

/** Where the bundles go: inside the project (see bundleCli). */
export const BUNDLE_ROOT = join(REPO_ROOT, 'node_modules', '.cache', 'dockfw-lint-tests');

/**
 * The CLI bundled with scripts/build.mjs's options into a folder of its own: not dist/
 * (it belongs to `npm run build`, and test files run in parallel), and not the system's
 * temp folder either, since the bundle imports ajv from the project's node_modules when
 * a config gives rule options. The folder goes when the test worker exits, and the
 * whole cache folder when the run ends (test/global-setup.ts).
 */
export async function bundleCli(prefix = 'dockfw-cli-'): Promise<string> {
  mkdirSync(BUNDLE_ROOT, { recursive: true });
  const dir = mkdtempSync(join(BUNDLE_ROOT, prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'cli.mjs');
  await buildCli(join(REPO_ROOT, 'src/cli/main.ts'), outfile);
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
