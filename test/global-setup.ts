// Once per `vitest run`: the CLI bundles that tests build (test/scratch.ts) live in
// the project's node_modules/.cache, and a test worker that is stopped rather than
// exiting never removes its own. The whole folder goes before and after the run.
import { rmSync } from 'node:fs';
import { BUNDLE_ROOT } from './scratch.ts';

export function setup(): () => void {
  rmSync(BUNDLE_ROOT, { recursive: true, force: true });
  return () => rmSync(BUNDLE_ROOT, { recursive: true, force: true });
}
