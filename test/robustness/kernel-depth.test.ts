// How deep may jumps go? Asked of the kernel in a scratch network namespace (never
// the root one): nf_tables refuses a table whose jumps nest 16 levels below a base
// chain ("RULE_APPEND failed (Too many links)", EMLINK; `iptables-restore --test`
// still passes, since only the kernel checks), while iptables-legacy loads a chain
// 10,000 deep. dockfw-lint must survive both — the walk keeps its own stack — and
// says when the kernel would refuse the table (IPT212).
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

  it('reports the 16 nested jumps nf_tables refuses (IPT212, on the jump from A15 to A16), and not the 15 it loads', () => {
    const { findings, errors } = lintText(deepChain(16), { rules: builtinRules });
    const said = [...findings.map((f) => f.message), ...errors.map((e) => e.message)].filter((m) => /deep|depth|nest|levels|too many links/i.test(m));
    expect(said).not.toEqual([]);
    expect(findings.filter((f) => f.ruleId === 'IPT212').map((f) => f.line)).toEqual([36]);
    expect(lintText(deepChain(15), { rules: builtinRules }).findings.filter((f) => f.ruleId === 'IPT212')).toEqual([]);
  });
});

/** `base` → C1 → … → C`depth`, in `table`; `-g` for every step with `goto`; no base chain jumps in with `unreached`. */
function nesting(depth: number, { table = 'filter', goto = false, unreached = false } = {}): string {
  const [base, builtins] = table === 'filter'
    ? ['INPUT', [':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]']]
    : ['PREROUTING', [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]']];
  const lines = [`*${table}`, ...builtins];
  for (let i = 1; i <= depth; i++) lines.push(`:C${i} - [0:0]`);
  const step = (from: string, to: string) => `-A ${from} ${goto ? '-g' : '-j'} ${to}`;
  if (!unreached) lines.push(step(base, 'C1'));
  for (let i = 1; i < depth; i++) lines.push(step(`C${i}`, `C${i + 1}`));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

describe('IPT212 agrees with nf_tables', () => {
  it.skipIf(!netns.ok)('on gotos, on chains no base chain reaches, and in nat: a finding exactly when iptables-nft-restore fails', { timeout: 180_000 }, async () => {
    const cases: [string, string][] = [
      ['15 gotos', nesting(15, { goto: true })], ['16 gotos', nesting(16, { goto: true })],
      ['30 levels no base chain reaches', nesting(30, { unreached: true })],
      ['15 levels in nat', nesting(15, { table: 'nat' })], ['16 levels in nat', nesting(16, { table: 'nat' })],
    ];
    await withScratchNamespace(async (ns) => {
      for (const [name, text] of cases) {
        const loaded = await restoreLoad(ns, text, { family: 'ipv4', backend: 'nft' });
        if (!loaded.ok) expect(loaded.stderr, name).toMatch(/Too many links/);
        const reported = lintText(text, { rules: builtinRules }).findings.some((f) => f.ruleId === 'IPT212');
        expect({ name, reported }).toEqual({ name, reported: !loaded.ok });
      }
    });
  });
});
