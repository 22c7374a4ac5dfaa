import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// rules/index.ts and the precompiled config validator are generated: a stale one
// would silently drop a rule or accept a config the schema rejects.
describe('generated modules are up to date', () => {
  for (const script of ['scripts/gen-rules-index.mjs', 'scripts/gen-validators.mjs']) {
    it(script, () => {
      expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
    });
  }
});
