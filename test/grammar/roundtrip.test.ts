// parse(print(parse(x))) equals parse(x), and print(parse(x)) loads wherever x loads,
// on every file of the project's corpus and (when present) the external regression set.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, printRuleset, type Ruleset } from '../../grammar/index.ts';
import { netnsAvailable, restoreTest, withScratchNamespace } from '../../scripts/lib/netns.mjs';

const root = join(import.meta.dirname, '..', '..');
const external = join(root, '..', 'shared', 'corpus-external');

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function corpusFiles(): string[] {
  const own = walk(join(root, 'corpus')).filter((f) => f.endsWith('.txt') && !f.includes('/invalid/') && !f.endsWith('.expected.json'));
  const theirs = existsSync(external)
    ? walk(external).filter((f) => !f.includes('nftablesdoc') && !/\.(md|nft|json)$/.test(f))
    : [];
  return [...own, ...theirs];
}

/** The AST without positions: what printing must preserve. */
function shape(rulesets: readonly Ruleset[]): unknown {
  return JSON.parse(JSON.stringify(rulesets.map((r) => ({ family: r.family, tables: r.tables })), (key, value) => (key === 'span' ? undefined : value)));
}

const files = corpusFiles();

describe('printer round trip', () => {
  it(`parse(print(parse(x))) equals parse(x) on ${files.length} files`, { timeout: 120_000 }, () => {
    let compared = 0;
    for (const file of files) {
      const first = parse(readFileSync(file, 'utf8'), { file });
      if (first.errors.length > 0) continue;
      const printed = first.rulesets.map((r) => printRuleset(r)).join('');
      const second = parse(printed, { file });
      expect(second.errors, relative(root, file)).toEqual([]);
      expect(shape(second.rulesets), relative(root, file)).toEqual(shape(first.rulesets));
      compared++;
    }
    console.log(`round-trip: ${compared} files compared`);
    expect(compared).toBeGreaterThan(20);
  });

  const netns = netnsAvailable();
  if (!netns.ok) console.log(`round-trip kernel check skipped: ${netns.reason}`);
  it.skipIf(!netns.ok)('print(parse(x)) passes iptables-restore --test wherever x does', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    let checked = 0;
    await withScratchNamespace(async (ns) => {
      const queue = [...files];
      const worker = async () => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          const text = readFileSync(file, 'utf8');
          const parsed = parse(text, { file });
          if (parsed.errors.length > 0 || parsed.rulesets.length !== 1) continue;
          const ruleset = parsed.rulesets[0]!;
          if (ruleset.tables.length === 0) continue;
          const original = await restoreTest(ns, text, { family: ruleset.family, backend: 'nft' });
          if (!original.ok) continue;
          const printed = await restoreTest(ns, printRuleset(ruleset), { family: ruleset.family, backend: 'nft' });
          checked++;
          if (!printed.ok) failures.push(`${relative(root, file)}: ${printed.stderr.trim().split('\n')[0]}`);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    });
    console.log(`round-trip kernel check: ${checked} printed files loaded with iptables-restore --test, ${failures.length} refused`);
    expect(failures).toEqual([]);
  });
});
