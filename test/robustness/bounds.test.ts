// Resource bounds, scaled down: each input built to be slow (scripts/bench/bounds.mjs
// makes them; `npm run bench -- --only bounds` runs them at full size with figures)
// at two sizes 8× apart — the time may grow at most 3× faster than the input (24×),
// plus 100 ms of slack for a loaded machine. Linear code grows ~8×, quadratic ~64×.
// Bugs found here are `it.fails` tests with their minimal counterexample.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { lintText } from '../../src/engine/engine.ts';
import { builtinRules } from '../../src/engine/registry.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';
import {
  cartesianLine, deepChain, diamond, greedyOptions, largeFile, manyChains, nestedQuoting, oneChain, singleLine, sourceBlocklist,
} from '../../scripts/bench/bounds.mjs';
import { bestOf } from './regexes.ts';

const SIZE_RATIO = 8;
const SLOWDOWN = 3;
const SLACK_MS = 100;

const parseText = (text: string) => parse(text, { file: 'bounds.txt' });
const lint = (text: string) => lintText(text, { rules: builtinRules, file: 'bounds.txt' });

/**
 * Times `run` on the input for `size` and for `ratio` × `size` (after a warm-up; best of three
 * small runs and of `largeRuns` large ones) and checks the time grew less than 3 × `ratio`.
 */
function expectLinear(label: string, make: (size: number) => string, size: number, run: (text: string) => unknown = parseText, { ratio = SIZE_RATIO, largeRuns = 1 } = {}): void {
  const small = make(size);
  const large = make(size * ratio);
  run(small);
  const smallMs = bestOf(3, () => run(small));
  const largeMs = bestOf(largeRuns, () => run(large));
  const limit = ratio * SLOWDOWN * smallMs + SLACK_MS;
  console.log(`${label}: ${small.length.toLocaleString('en-US')} B ${smallMs.toFixed(0)} ms → ${large.length.toLocaleString('en-US')} B ${largeMs.toFixed(0)} ms (${(largeMs / smallMs).toFixed(1)}×, limit ${limit.toFixed(0)} ms)`);
  expect(largeMs, `${label}: ${smallMs.toFixed(1)} ms at size ${size}, ${largeMs.toFixed(1)} ms at ${size * ratio}`).toBeLessThan(limit);
}

describe('parse time grows linearly', () => {
  it('a large file (kube-proxy dump, 0.4 MB → 3.2 MB; the bench runs 50 MB)', { timeout: 60_000 }, () => {
    expectLinear('large file', largeFile, 400_000);
  });

  it('a single long line (128 KB → 1 MB) is refused as one located error, without scanning it', { timeout: 60_000 }, () => {
    const result = parseText(singleLine(1_000_000));
    expect(result.errors.map((e) => [e.span.line, e.message])).toEqual([[5, expect.stringMatching(/^line is \d+ characters long$/)]]);
    expectLinear('single line', singleLine, 128 * 1024);
  });

  it('lines up to the 64 KB limit (8 KB → 64 KB)', { timeout: 60_000 }, () => {
    expectLinear('long line', singleLine, 8 * 1024 - 100);
  });

  it('100,000 chains (1,250 → 10,000)', { timeout: 60_000 }, () => {
    expectLinear('chains', manyChains, 1250);
  });

  it('a jump chain 10,000 deep (1,250 → 10,000)', { timeout: 60_000 }, () => {
    expectLinear('deep chain', deepChain, 1250);
  });

  it('deeply nested quoting (four lines of 8 KB → 64 KB of escaped quotes and quote segments)', { timeout: 60_000 }, () => {
    const text = nestedQuoting(8000, 4);
    const comment = parseText(text).rulesets[0]!.tables[0]!.chains[0]!.rules[0]!.matches[0]!;
    expect(comment.kind === 'comment' && comment.comment.startsWith('"\\"\\')).toBe(true);
    expectLinear('quoting', (n) => nestedQuoting(n, 4), 8000);
  });

  it('1,000,000 rules in one chain (6,250 → 50,000)', { timeout: 60_000 }, () => {
    expectLinear('one chain', oneChain, 6250);
  });

  it('a line of unknown modules and their options (8 KB → 64 KB; grammar/rule.ts looks up each option\'s module through every module loaded: quadratic, 2.4 s for one 64 KB line)', { timeout: 60_000 }, () => {
    expectLinear('greedy options', greedyOptions, 7900);
  });

  it('one line of 400 sources × 400 destinations (8 KB) does not make parse() throw (grammar/parse.ts `chain.rules.push(...rules)`: "Maximum call stack size exceeded")', () => {
    expect(() => parseText(cartesianLine(400))).not.toThrow();
  });
});

describe('the whole lint grows linearly', () => {
  it('a large file (kube-proxy, 500 → 4,000 rules)', { timeout: 60_000 }, () => {
    expectLinear('lint large file', largeFile, 80_000, lint);
  });

  it('many chains (1,250 → 10,000)', { timeout: 60_000 }, () => {
    expectLinear('lint chains', manyChains, 1250, lint);
  });

  it('a deep jump chain (1,000 → 8,000; rules/IPT210 endsInDeny once copied its `seen` set and searched the chain list at every level: quadratic, ~40× here)', { timeout: 60_000 }, () => {
    expectLinear('lint deep chain', deepChain, 1000, lint);
  });

  it('a deep jump chain without IPT210 (1,000 → 8,000)', { timeout: 60_000 }, () => {
    const others = builtinRules.filter((r) => r.meta.id !== 'IPT210');
    expectLinear('lint deep chain without IPT210', deepChain, 1000, (text) => lintText(text, { rules: others, file: 'bounds.txt' }));
  });

  it('a 20,000-deep jump chain ending in DROP lints without a crashed rule, and IPT210 sees the DROP at its end (rules/IPT210 endsInDeny recursed once per chain, copying its `seen` set: "Maximum call stack size exceeded"; the built CLI failed at 10,000 levels with DFW900, exit 2)', { timeout: 60_000 }, () => {
    const text = deepChain(20_000).replace('-A A20000 -j ACCEPT', '-A A20000 -j DROP');
    const { findings } = lint(text);
    expect(findings.filter((f) => f.ruleId === 'DFW900').map((f) => f.message)).toEqual([]);
    expect(findings.filter((f) => f.ruleId === 'IPT210').map((f) => f.message)).toEqual([]);
    const accepting = lint(deepChain(20_000)).findings.filter((f) => f.ruleId === 'IPT210').map((f) => f.messageId);
    expect(accepting, 'the same chain ending in ACCEPT: INPUT accepts by default').toEqual(['inputAccepts']);
  });

  it('many rules in one chain (500 → 4,000)', { timeout: 60_000 }, () => {
    expectLinear('lint one chain', oneChain, 500, lint);
  });

  it('a source blocklist (100 → 1,600 `-s ADDR -j DROP`; was quadratic: every source split the exposure classes, each walked through every rule — rules/DFW111 asks six ports × every interface, 4,000 sources took 30 s; src/sim/source-runs.ts now makes the run one membership test)', { timeout: 60_000 }, () => {
    expectLinear('lint blocklist', sourceBlocklist, 100, lint, { ratio: 16 });
  });

  it('nested quoting (8 KB → 64 KB lines)', { timeout: 60_000 }, () => {
    expectLinear('lint quoting', (n) => nestedQuoting(n, 4), 8000, lint);
  });
});

describe('large collections are not spread into a call (RangeError: Maximum call stack size exceeded)', () => {
  const badLines = `*filter\n${'x\n'.repeat(200_000)}COMMIT\n`;

  it('a file of 200,000 bad lines parses to 200,000 located errors', { timeout: 60_000 }, () => {
    expect(parseText(badLines).errors.length).toBe(200_000);
  });

  it('… and lints to them (src/engine/host.ts `errors.push(...result.errors)` throws: the CLI says "internal error", exit 2)', { timeout: 60_000 }, () => {
    expect(lint(badLines).errors.length).toBe(200_000);
  });

  it('a chain of 200,000 rules goes through the Docker model (src/model/docker/chains.ts indexRuleset `allRules.push(...chain.rules)`: 1,000,000 rules in one chain crash the whole lint)', { timeout: 60_000 }, () => {
    const ruleset = parseText(oneChain(1)).rulesets[0]!;
    const [table] = ruleset.tables;
    const [input, ...others] = table!.chains;
    const big = { ...ruleset, tables: [{ ...table!, chains: [{ ...input!, rules: Array(200_000).fill(input!.rules[0]!) }, ...others] }] };
    expect(() => recogniseDocker(big)).not.toThrow();
  });
});

describe('the simulator on deep and branching jump graphs', () => {
  const probe: Packet = { family: 'ipv4', proto: 'tcp', src: '198.51.100.7', dst: '203.0.113.10', sport: 40000, dport: 22, inInterface: 'eth0', state: 'NEW' };
  const simulate = (text: string) => {
    const ruleset = parseText(text).rulesets[0]!;
    return createSimulator(ruleset, recogniseDocker(ruleset));
  };

  it('a jump chain 100,000 deep: the walk uses its own stack, so it ends without a stack overflow', { timeout: 60_000 }, () => {
    const trace = simulate(deepChain(100_000)).trace(probe);
    expect(['accept', 'unknown']).toContain(trace.verdict);
  });

  it('a 300-deep chain without a loop is not reported as a loop (src/sim/traverse.ts MAX_DEPTH 256 says "jump loop … the kernel refuses such a ruleset"; iptables-legacy loads 10,000 levels, nf_tables refuses from 16)', () => {
    const trace = simulate(deepChain(300)).trace(probe);
    expect(trace.uncertain.map((u) => u.reason).join('; ')).not.toMatch(/loop/);
  });

  it('jumps that branch (each chain jumping twice to the next) cost steps linear in the file, not 2^depth (src/sim/traverse.ts walked every path, 36 s for a 75-line file; a chain that returned is now summarised per packet state, so a second jump in the same state takes the summary)', { timeout: 60_000 }, () => {
    const steps = (depth: number) => simulate(diamond(depth)).trace(probe).steps.length;
    const shallow = steps(12);
    const deep = steps(18);
    // The file grows 1.5×: the walk may grow 3× that.
    expect(deep, `${shallow} steps at depth 12, ${deep} at depth 18`).toBeLessThan(shallow * 1.5 * SLOWDOWN);
  });
});
