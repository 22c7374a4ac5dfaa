// Every corpus host against its golden findings (corpus/**/<name>.expected.json).
// A difference fails with the diff and what to do: if the change is intended,
// `npm run corpus:update` and review `git diff corpus/`.
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './corpus-hosts.ts';
import { computeGolden, corpusHosts, readGolden, serialiseGolden, staleGoldens } from './corpus-golden.shared.ts';

const HOW_TO_UPDATE = 'if the new findings are intended, run `npm run corpus:update` and review the diff (git diff corpus/) before committing';

describe('corpus goldens', () => {
  const hosts = corpusHosts(REPO_ROOT);

  it('covers the corpus: every layout folder, v4/v6 pairs as one host, nothing from invalid/', () => {
    expect(hosts.length).toBeGreaterThan(40);
    expect(new Set(hosts.map((h) => h.name.split('/')[1]))).toEqual(new Set(['docker-layouts', 'hardened', 'mistakes', 'other']));
    expect(hosts.find((h) => h.name === 'corpus/mistakes/m06-ipv6-open')?.files).toEqual(['corpus/mistakes/m06-ipv6-open.v4.txt', 'corpus/mistakes/m06-ipv6-open.v6.txt']);
  });

  it('has no golden without its snapshot', () => {
    expect(staleGoldens(REPO_ROOT), `stale *.expected.json files: ${HOW_TO_UPDATE}`).toEqual([]);
  });

  for (const host of hosts) {
    it(host.name, () => {
      const expected = readGolden(host, REPO_ROOT);
      expect(expected, `${host.golden} is missing: ${HOW_TO_UPDATE}`).toBeDefined();
      const actual = computeGolden(host, REPO_ROOT);
      // Compared as text, line by line: the failure shows exactly which findings appeared or went away.
      expect(serialiseGolden(actual), `${host.golden} is out of date: ${HOW_TO_UPDATE}`).toBe(serialiseGolden(expected!));
    });
  }
});
