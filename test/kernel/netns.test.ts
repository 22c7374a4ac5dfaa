// The scratch-namespace helper every kernel test stands on: it must isolate, report, and clean up.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { legacyAvailable, netnsAvailable, restoreLoad, restoreTest, withScratchNamespace } from '../../scripts/lib/netns.mjs';

const availability = netnsAvailable();
if (!availability.ok) console.log(`netns: skipped (${availability.reason})`);

function namespaceExists(name: string): boolean {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return listed.split('\n').some((line) => line.split(' ')[0] === name);
}

const filterWith = (rule: string) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rule}\nCOMMIT\n`;

describe.skipIf(!availability.ok)('scripts/lib/netns.mjs', () => {
  it('runs commands inside a fresh namespace and deletes it afterwards', async () => {
    let seen = '';
    const links = await withScratchNamespace(async (ns) => {
      seen = ns.name;
      expect(ns.name).toMatch(new RegExp(`^dfw${process.pid}-`));
      expect(namespaceExists(ns.name)).toBe(true);
      return ns.exec('ip', ['-o', 'link', 'show']);
    });
    expect(links.code).toBe(0);
    // A new namespace has only its own loopback: proof we are not in the root namespace.
    expect(links.stdout.trim().split('\n')).toHaveLength(1);
    expect(links.stdout).toContain('lo:');
    expect(namespaceExists(seen)).toBe(false);
  });

  it('deletes the namespace when the callback throws', async () => {
    let seen = '';
    await expect(
      withScratchNamespace((ns) => {
        seen = ns.name;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen).not.toBe('');
    expect(namespaceExists(seen)).toBe(false);
  });

  it('feeds stdin, reports exit codes, and kills on timeout', async () => {
    await withScratchNamespace(async (ns) => {
      const echoed = await ns.exec('cat', [], { input: 'hello\n' });
      expect(echoed).toMatchObject({ code: 0, stdout: 'hello\n', timedOut: false });
      expect(echoed.ms).toBeGreaterThan(0);
      expect((await ns.exec('sh', ['-c', 'echo oops >&2; exit 3'])).stderr).toBe('oops\n');
      expect((await ns.exec('false')).code).toBe(1);
      const slow = await ns.exec('sleep', ['10'], { timeoutMs: 200 });
      expect(slow).toMatchObject({ code: null, timedOut: true });
    });
  });

  it('restoreTest accepts a valid ruleset and rejects an invalid one, for both families', async () => {
    await withScratchNamespace(async (ns) => {
      const v4 = await restoreTest(ns, filterWith('-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT'), { family: 'ipv4', backend: 'nft' });
      expect(v4).toMatchObject({ ok: true, code: 0 });
      const bad = await restoreTest(ns, filterWith('-A INPUT -p tcp -m tcp --dport 70000 -j ACCEPT'), { family: 'ipv4', backend: 'nft' });
      expect(bad.ok).toBe(false);
      expect(bad.stderr).toMatch(/port/i);
      const v6 = await restoreTest(ns, filterWith('-A INPUT -s fd00::/8 -j ACCEPT'), { family: 'ipv6', backend: 'nft' });
      expect(v6.ok).toBe(true);
      const v4InV6 = await restoreTest(ns, filterWith('-A INPUT -s 10.0.0.1 -j ACCEPT'), { family: 'ipv6', backend: 'nft' });
      expect(v4InV6.ok).toBe(false);
      // --test commits nothing: the namespace's ruleset stays empty.
      const saved = await ns.exec('iptables-nft-save');
      expect(saved.stdout).not.toContain('--dport 22');
    });
  });

  it('restoreLoad lets the kernel check what --test does not', async () => {
    await withScratchNamespace(async (ns) => {
      const jumpToMissing = filterWith('-A INPUT -j MISSING');
      expect((await restoreTest(ns, jumpToMissing, { family: 'ipv4', backend: 'nft' })).ok).toBe(true);
      const loaded = await restoreLoad(ns, jumpToMissing, { family: 'ipv4', backend: 'nft' });
      expect(loaded.ok).toBe(false);
      expect(loaded.stderr).toContain('MISSING');
    });
  });

  it('legacyAvailable answers, and the legacy backend works when it says so', async () => {
    await withScratchNamespace(async (ns) => {
      const legacy = await legacyAvailable(ns);
      expect(typeof legacy).toBe('boolean');
      if (!legacy) return;
      expect((await restoreTest(ns, filterWith('-A INPUT -j ACCEPT'), { family: 'ipv4', backend: 'legacy' })).ok).toBe(true);
      expect((await restoreTest(ns, filterWith('-A INPUT -j NOWHERE'), { family: 'ipv4', backend: 'legacy' })).ok).toBe(false);
    });
  });
});
