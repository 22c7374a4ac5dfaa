// The corpus as hosts: every corpus/**/*.txt outside invalid/, with
// `<name>.v4.txt` + `<name>.v6.txt` forming one host, and where its golden
// findings live (`<name>.expected.json`). Shared by the golden test, the
// update script and the diff tests.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const REPO_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

export interface CorpusHost {
  /** `corpus/mistakes/m06-ipv6-open` */
  readonly name: string;
  /** Repository-relative, POSIX, IPv4 first. */
  readonly files: readonly string[];
  /** Repository-relative path of the golden file. */
  readonly golden: string;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.txt')) out.push(path);
  }
}

export function corpusHosts(root = REPO_ROOT): CorpusHost[] {
  const files: string[] = [];
  walk(join(root, 'corpus'), files);
  const groups = new Map<string, string[]>();
  for (const absolute of files) {
    const file = relative(root, absolute).split('\\').join('/');
    if (file.startsWith('corpus/invalid/')) continue;
    const name = file.replace(/\.v[46]\.txt$/, '').replace(/\.txt$/, '');
    groups.set(name, [...(groups.get(name) ?? []), file]);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, group]) => ({
    name,
    files: group.sort((a, b) => (a.endsWith('.v6.txt') ? 1 : 0) - (b.endsWith('.v6.txt') ? 1 : 0)),
    golden: `${name}.expected.json`,
  }));
}
