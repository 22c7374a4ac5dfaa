// How deep may jumps go? Asked of the kernel in a scratch network namespace (never
// the root one): nf_tables refuses a table whose jumps nest 16 levels below a base
// chain ("RULE_APPEND failed (Too many links)", EMLINK; `iptables-restore --test`
// still passes, since only the kernel checks), while iptables-legacy loads a chain
// 10,000 deep. dockfw-lint must survive both — the walk keeps its own stack — and
// should say when the kernel would refuse the table.
import { describe, expect, it } from 'vitest';
import { lintText } from '../../src/engine/engine.ts';
import { builtinRules } from '../../src/engine/registry.ts';
import { legacyAvailable, netnsAvailable, restoreLoad, restoreTest, withScratchNamespace } from '../../scripts/lib/netns.mjs';
import { deepChain } from '../../scripts/bench/bounds.mjs';

const netns = netnsAvailable();
if (!netns.ok) console.log(`kernel depth checks skipped: ${netns.reason}`);

describe('jump depth in the kernel', () => {
  it.skipIf(!netns.ok)('nf_tables loads 15 nested jumps and refuses 16 (EMLINK); legacy loads 10,000', { timeout: 180_000 }, async () => {
    await withScratchNamespace(async (ns) => {
      const fifteen = await restoreLoad(ns, deepChain(15), { family: 'ipv4', backend: 'nft' });
      expect(fifteen.ok, fifteen.stderr).toBe(true);
      const sixteen = await restoreLoad(ns, deepChain(16), { family: 'ipv4', backend: 'nft' });
      expect(sixteen.ok).toBe(false);
      expect(sixteen.stderr).toMatch(/Too many links/);
      const tested = await restoreTest(ns, deepChain(16), { family: 'ipv4', backend: 'nft' });
      expect(tested.ok, 'iptables-restore --test does not ask the kernel').toBe(true);
      if (await legacyAvailable(ns)) {
        const legacy = await restoreLoad(ns, deepChain(10_000), { family: 'ipv4', backend: 'legacy', timeoutMs: 120_000 });
        expect(legacy.ok, legacy.stderr).toBe(true);
      }
    });
  });
});

describe('dockfw-lint on chains that deep', () => {
  it('lints a chain 10,000 deep without a crash in the walk', { timeout: 60_000 }, () => {
    const result = lintText(deepChain(10_000), { rules: builtinRules.filter((r) => r.meta.id !== 'IPT210') });
    expect(result.errors).toEqual([]);
    expect(result.findings.filter((f) => f.ruleId === 'DFW900')).toEqual([]);
  });

  it.fails('reports the 16 nested jumps nf_tables refuses (no rule or error says so today; iptables-nft-restore fails with "Too many links")', () => {
    const { findings, errors } = lintText(deepChain(16), { rules: builtinRules });
    const said = [...findings.map((f) => f.message), ...errors.map((e) => e.message)].filter((m) => /deep|depth|nest|levels|too many links/i.test(m));
    expect(said).not.toEqual([]);
  });
});
