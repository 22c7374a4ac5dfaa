// `diff` compares reachability, not text: cosmetic edits of every corpus host
// report nothing; real edits report what widened or narrowed, with the proof.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildHosts, type HostInput } from '../../src/engine/host.ts';
import { sampleAddress } from '../../src/diff/compare.ts';
import { diffSnapshots, type DiffResult } from '../../src/diff/index.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import { corpusHosts, REPO_ROOT } from '../corpus-hosts.ts';
import { dockerHostRuleset } from '../../scripts/gen/index.mjs';
import { commutingRuns, cosmetic } from './mutate.ts';

const SETTINGS = { externalInterfaces: [], localAddresses: [] };

function snapshot(inputs: readonly HostInput[]) {
  const built = buildHosts(inputs, SETTINGS);
  expect(built.errors).toEqual([]);
  return built.hosts.map((host) => ({ host, relativeFiles: host.files }));
}

export function diffTexts(before: readonly HostInput[], after: readonly HostInput[], externalInterfaces: string[] = []): DiffResult {
  return diffSnapshots(snapshot(before), snapshot(after), { externalInterfaces });
}

function read(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

const M01 = 'corpus/mistakes/m01-input-drop-published-port.txt';

describe('cosmetic edits change nothing reachable', () => {
  const hosts = corpusHosts();

  it('the corpus has hosts, pairs among them, and rules to reorder', () => {
    expect(hosts.length).toBeGreaterThan(40);
    expect(hosts.some((h) => h.files.length === 2)).toBe(true);
    const movable = hosts.filter((h) => h.files.some((f) => commutingRuns(read(f)).length > 0));
    expect(movable.length).toBeGreaterThan(30);
  });

  for (const host of hosts) {
    it(`${host.name}: reordered commuting rules, new counters, edited comments → empty diff`, () => {
      const before = host.files.map((file) => ({ file, text: read(file) }));
      const after = before.map(({ file, text }) => ({ file, text: cosmetic(text, file).text }));
      if (before.some((b) => b.text.trim() !== '')) expect(after.map((a) => a.text)).not.toEqual(before.map((b) => b.text));
      const result = diffTexts(before, after);
      expect(result.hosts.flatMap((h) => h.changes.map((c) => `${c.kind} ${c.target.key} ${c.interface} ${c.sources.join(',')}`))).toEqual([]);
      expect(result.widened).toBe(false);
    });
  }

  it('a pure reorder of m01 moves Docker rules and still reports nothing', () => {
    const text = read(M01);
    const { text: shuffled, moved } = cosmetic(text, 'reorder-only');
    expect(moved).toBeGreaterThan(2);
    const result = diffTexts([{ file: 'h.txt', text }], [{ file: 'h.txt', text: shuffled }]);
    expect(result.summary).toEqual({ hostsCompared: 1, widening: 0, narrowing: 0 });
  });
});

describe('cosmetic edits, any seed', () => {
  // Hosts with the most commuting runs: Docker's per-port DNATs and ACCEPTs, ufw chains, a swarm, a pair.
  const files = [
    M01,
    'corpus/docker-layouts/docker-23-compose-stacks.txt',
    'corpus/docker-layouts/docker-28.1-forward-chains.txt',
    'corpus/docker-layouts/docker-24-swarm-ingress.txt',
    'corpus/hardened/ufw-docker.txt',
    'corpus/mistakes/m09-forward-rules-after-docker.txt',
  ];
  test.prop([fc.constantFrom(...files), fc.string({ minLength: 1, maxLength: 12 })], { numRuns: 24 })('reorder + counters + comments → empty diff', (file, seed) => {
    const text = read(file);
    const result = diffTexts([{ file: 'h.txt', text }], [{ file: 'h.txt', text: cosmetic(text, seed).text }]);
    expect(result.summary).toEqual({ hostsCompared: 1, widening: 0, narrowing: 0 });
  });
});

const RESTRICTED = (text: string) => text.replace(/^-A DOCKER-USER -j RETURN$/m,
  '-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN\n-A DOCKER-USER -i eth0 -j DROP\n-A DOCKER-USER -j RETURN');

describe('real changes', () => {
  const open = read(M01);
  const restricted = RESTRICTED(open);

  it('dropping the DOCKER-USER restriction widens every published port on eth0, proved by a witness walk', () => {
    const result = diffTexts([{ file: 'h.txt', text: restricted }], [{ file: 'h.txt', text: open }]);
    expect(result.widened).toBe(true);
    const published = result.hosts[0]!.changes.filter((c) => c.target.category === 'published');
    expect(published.map((c) => [c.kind, c.target.key, c.interface])).toEqual([
      ['widened', 'published tcp 0.0.0.0:3306', 'eth0'],
      ['widened', 'published tcp 0.0.0.0:8080', 'eth0'],
      ['widened', 'published tcp 0.0.0.0:8081', 'eth0'],
    ]);
    const change = published[1]!;
    expect(change.before).toEqual(['198.51.100.0/24']);
    expect(change.after).toEqual(['0.0.0.0/0']);
    expect(change.sources).not.toContain('198.51.100.0/24');
    expect(change.witness).toMatchObject({ proto: 'tcp', dport: 8080, inInterface: 'eth0' });
    expect(change.old).toMatchObject({ verdict: 'drop', decidedBy: { chain: 'DOCKER-USER', rule: '-A DOCKER-USER -i eth0 -j DROP' } });
    expect(change.new).toMatchObject({ verdict: 'accept', decidedBy: { table: 'filter', chain: 'DOCKER' } });
    expect(change.new!.steps.some((s) => s.action === 'dnat')).toBe(true);
    const removed = result.hosts[0]!.ruleEffects.find((e) => e.rule === '-A DOCKER-USER -i eth0 -j DROP')!;
    expect(removed).toMatchObject({ presence: 'removed', oldLine: 46 });
    expect(removed.stoppedDeciding.length).toBeGreaterThanOrEqual(3);
  });

  it('adding it back only narrows: not a widening', () => {
    const result = diffTexts([{ file: 'h.txt', text: open }], [{ file: 'h.txt', text: restricted }]);
    expect(result.widened).toBe(false);
    expect(result.summary.narrowing).toBeGreaterThanOrEqual(3);
    expect(new Set(result.hosts[0]!.changes.map((c) => c.kind))).toEqual(new Set(['narrowed']));
  });

  it('a newly published port is newly reachable; a removed one is no longer reachable', () => {
    const published = restricted
      .replace(/^(-A DOCKER -d 172\.17\.0\.2\/32 .*)$/m, '$1\n-A DOCKER -d 172.17.0.9/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT')
      .replace(/^(-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 .*)$/m, '$1\n-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.9:5432')
      .replace(/^-A DOCKER-USER -i eth0 -j DROP$/m, '-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j DROP');
    const result = diffTexts([{ file: 'h.txt', text: restricted }], [{ file: 'h.txt', text: published }]);
    const published5432 = result.hosts[0]!.changes.filter((c) => c.target.key === 'published tcp 0.0.0.0:5432');
    expect(published5432.map((c) => c.kind)).toContain('newly-reachable');
    expect(published5432[0]!.before).toEqual([]);
    expect(published5432[0]!.new).toMatchObject({ verdict: 'accept' });

    const gone = restricted.replace(/^-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 .*\n/m, '');
    const goneResult = diffTexts([{ file: 'h.txt', text: restricted }], [{ file: 'h.txt', text: gone }]);
    const changes = goneResult.hosts[0]!.changes.filter((c) => c.target.key === 'published tcp 0.0.0.0:8081');
    expect(changes.map((c) => [c.kind, c.interface])).toEqual([['no-longer-reachable', 'eth0'], ['no-longer-reachable', '*']]);
    expect(changes[0]!.after).toEqual([]);
    expect(goneResult.widened).toBe(false);
  });

  it('a host port opened in INPUT is newly reachable from exactly the sources the rule names', () => {
    const opened = open.replace(/^(-A INPUT -p tcp -m tcp --dport 3306 .*)$/m, '$1\n-A INPUT -s 192.0.2.0/25 -p tcp -m tcp --dport 5432 -j ACCEPT');
    const result = diffTexts([{ file: 'h.txt', text: open }], [{ file: 'h.txt', text: opened }]);
    expect(result.hosts[0]!.changes.map((c) => [c.kind, c.target.key, c.interface, c.sources])).toEqual([
      ['newly-reachable', 'host tcp/5432', '*', ['192.0.2.0/25']],
    ]);
    const effect = result.hosts[0]!.ruleEffects.find((e) => e.presence === 'added')!;
    expect(effect.rule).toBe('-A INPUT -s 192.0.2.0/25 -p tcp -m tcp --dport 5432 -j ACCEPT');
    expect(effect.startedDeciding[0]).toMatch(/^lets in host tcp 5432 from 192\.0\.2\.0\/25 on any other interface$/);
  });

  it('a rule naming a new interface splits "any other interface" without inventing a change', () => {
    const withEth1 = open.replace(/^(-A INPUT -p tcp -m tcp --dport 3306 .*)$/m, '$1\n-A INPUT -i eth1 -p tcp -m tcp --dport 9999 -j DROP');
    const result = diffTexts([{ file: 'h.txt', text: open }], [{ file: 'h.txt', text: withEth1 }]);
    expect(result.summary).toEqual({ hostsCompared: 1, widening: 0, narrowing: 0 });
  });

  const closed = open.replace(/^-A DOCKER-USER -j RETURN$/m, '-A DOCKER-USER -i eth0 -j RETURN\n-A DOCKER-USER -j DROP');

  it('counts the sources of every interface apart: opening one interface widens only there', () => {
    const lan = closed.replace(/^-A DOCKER-USER -j DROP$/m, '-A DOCKER-USER -i eth1 -j RETURN\n-A DOCKER-USER -j DROP');
    const result = diffTexts([{ file: 'h.txt', text: closed }], [{ file: 'h.txt', text: lan }]);
    expect(new Set(result.hosts[0]!.changes.map((c) => c.interface))).toEqual(new Set(['eth1']));
    expect(new Set(result.hosts[0]!.changes.map((c) => c.kind))).toEqual(new Set(['newly-reachable']));
    expect(result.widened).toBe(true);
  });

  it('with --ext-if, only the named interfaces are asked about', () => {
    const result = diffTexts([{ file: 'h.txt', text: closed }], [{ file: 'h.txt', text: open }], ['eth9']);
    expect(new Set(result.hosts[0]!.changes.map((c) => c.interface))).toEqual(new Set(['eth9']));
    expect(diffTexts([{ file: 'h.txt', text: closed }], [{ file: 'h.txt', text: open }], ['eth0']).summary.widening).toBe(0);
  });

  it('an allow-list the dump cannot decide (-m set) counts as possibly reachable: a widening whose witness says so', () => {
    const withSet = closed.replace(/^-A DOCKER-USER -j DROP$/m, '-A DOCKER-USER -m set --match-set partners src -j RETURN\n-A DOCKER-USER -j DROP');
    const result = diffTexts([{ file: 'h.txt', text: closed }], [{ file: 'h.txt', text: withSet }]);
    expect(result.widened).toBe(true);
    const change = result.hosts[0]!.changes.find((c) => c.target.key === 'published tcp 0.0.0.0:8080' && c.interface !== 'eth0')!;
    expect(change.kind).toBe('newly-reachable');
    expect(change.new!.verdict).toBe('unknown');
    expect(change.old!.verdict).toBe('drop');
  });

  it('removing that allow-list widens even though both sides count as reachable: now unconditional, naming the set', () => {
    const withSet = closed.replace(/^-A DOCKER-USER -j DROP$/m, '-A DOCKER-USER -m set --match-set partners src -j RETURN\n-A DOCKER-USER -j DROP');
    const withoutSet = closed.replace(/^-A DOCKER-USER -j DROP\n/m, '');
    const result = diffTexts([{ file: 'h.txt', text: withSet }], [{ file: 'h.txt', text: withoutSet }]);
    expect(result.widened).toBe(true);
    const change = result.hosts[0]!.changes.find((c) => c.target.key === 'published tcp 0.0.0.0:8080' && c.interface !== 'eth0')!;
    expect(change.kind).toBe('now-unconditional');
    expect(change.before).toEqual(change.after);
    expect(change.conditions?.map((c) => c.reason)).toEqual([expect.stringContaining('--match-set partners')]);
    expect(change.old!.verdict).toBe('unknown');
    expect(change.new!.verdict).toBe('accept');
    // And back: the set now decides, a narrowing.
    const back = diffTexts([{ file: 'h.txt', text: withoutSet }], [{ file: 'h.txt', text: withSet }]);
    expect(back.widened).toBe(false);
    expect(back.hosts[0]!.changes.find((c) => c.target.key === 'published tcp 0.0.0.0:8080' && c.interface !== 'eth0')!.kind).toBe('now-conditional');
  });

  it('a Docker upgrade rewrites every rule but only narrows: 27 → 28.2 closes direct routing and 127.0.0.1 publications; 28.2 → 29 changes nothing', () => {
    const layout = (version: '27' | '28.2.2' | '29') => [{ file: 'h.txt', text: dockerHostRuleset({ publishedPorts: 12, bridges: 3, seed: 7, layout: version }) }];
    const upgrade = diffTexts(layout('27'), layout('28.2.2'));
    expect(upgrade.widened).toBe(false);
    const changes = upgrade.hosts[0]!.changes;
    expect(changes.length).toBeGreaterThan(0);
    expect(new Set(changes.map((c) => c.kind))).toEqual(new Set(['no-longer-reachable']));
    expect(changes.every((c) => c.target.category === 'direct' || c.target.address === '127.0.0.1')).toBe(true);
    expect(changes.find((c) => c.target.category === 'direct')!.new).toMatchObject({ verdict: 'drop', decidedBy: { table: 'raw', chain: 'PREROUTING' } });
    expect(diffTexts(layout('28.2.2'), layout('29')).summary).toEqual({ hostsCompared: 1, widening: 0, narrowing: 0 });
  });

  it('IPv6: a ruleset pair diffs each family on its own', () => {
    const v4 = read('corpus/hardened/docker-28.2-ipv6-pair.v4.txt');
    const v6 = read('corpus/hardened/docker-28.2-ipv6-pair.v6.txt');
    const openV6 = v6.replace(/^-A DOCKER-USER .*-j DROP\n/gm, '');
    expect(openV6).not.toBe(v6);
    const result = diffTexts(
      [{ file: 'web.v4.txt', text: v4 }, { file: 'web.v6.txt', text: v6 }],
      [{ file: 'web.v4.txt', text: v4 }, { file: 'web.v6.txt', text: openV6 }],
    );
    expect(result.hosts).toHaveLength(1);
    const families = new Set(result.hosts[0]!.changes.map((c) => c.family));
    expect(families).toEqual(new Set(['ipv6']));
    expect(result.widened).toBe(true);
  });
});

describe('witness sources', () => {
  it('are inside the moved range, whatever its size', () => {
    for (const cidr of ['0.0.0.0/0', '198.51.100.0/24', '192.0.2.8/29', '192.0.2.4/30', '192.0.2.2/31', '192.0.2.1/32', '2001:db8::/32', '2001:db8::/126']) {
      const family = cidr.includes(':') ? 'ipv6' : 'ipv4';
      const sample = sampleAddress(family, AddressSet.fromCidrs(family, [cidr]));
      expect(AddressSet.fromCidrs(family, [cidr]).containsText(sample), `${sample} in ${cidr}`).toBe(true);
    }
  });
});
