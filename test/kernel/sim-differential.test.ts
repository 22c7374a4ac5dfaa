// The simulator against the real kernel: for corpus rulesets and generated
// Docker hosts, build namespaces that mirror the host (bridges, containers,
// external clients; see mirror.ts), send real packets, and compare where each
// one ends up and which rules it hit with what `trace` predicts, and whether
// the sources exposure() lists (and only those) get through.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerHostRuleset, DOCKER_LAYOUTS } from '../../scripts/gen/index.mjs';
import { createRandom } from '../../scripts/gen/prng.mjs';
import {
  decidedPrefix, exposureProbes, firstPass, kernelOutcome, kernelPath, plan, probes, simOutcome, simPacket, simPath, undecided,
  type Case, type Plan,
} from './mirror.ts';
import { oracleAvailable, runOracle } from './oracle.ts';
import type { OracleProbe } from './oracle.ts';

const root = join(import.meta.dirname, '..', '..');
const PROBES_PER_RULESET = Number(process.env.DFW_DIFF_PROBES ?? 200);

function corpusCases(): Case[] {
  const cases: Case[] = [];
  for (const dir of ['docker-layouts', 'mistakes', 'hardened']) {
    const folder = join(root, 'corpus', dir);
    for (const name of readdirSync(folder).sort()) {
      if (!name.endsWith('.txt')) continue;
      cases.push({ name: relative(root, join(folder, name)), text: readFileSync(join(folder, name), 'utf8') });
    }
  }
  return cases;
}

/**
 * The iptables dumps under a folder of real-world files, file by file (the external
 * regression set: Docker's own goldens and rulesets from public sources), IPv4 and IPv6.
 * nft-syntax folders and notes are left out; anything else parse() rejects is dropped by plan().
 */
function externalCases(dir: string): Case[] {
  const cases: Case[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) { if (!entry.name.includes('nftables')) walk(path); continue; }
      if (/\.(md|json|sh)$/i.test(entry.name)) continue;
      cases.push({ name: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(dir);
  return cases;
}

function generatedCases(): Case[] {
  const rng = createRandom('sim-differential');
  const random = () => rng.next();
  const cases: Case[] = [];
  for (let k = 0; k < 6; k++) {
    const layout = DOCKER_LAYOUTS[k % DOCKER_LAYOUTS.length]!;
    const options = {
      seed: `diff-${k}`, layout, bridges: 2 + (k % 3), publishedPorts: 4 + k,
      userlandProxy: random() < 0.5, forwardPolicy: random() < 0.5 ? 'ACCEPT' as const : 'DROP' as const,
      loopbackShare: 0.2, hostIpShare: 0, dockerUserRules: random() < 0.5, adminInput: true,
    };
    cases.push({ name: `generated docker ${layout} #${k}`, text: dockerHostRuleset(options) });
  }
  return cases;
}

const availability = oracleAvailable();
if (!availability.ok) console.log(`sim-differential: skipped (${availability.reason})`);

interface Tally {
  readonly compared: number;
  readonly agree: number;
  /** exposure()'s answers checked by a packet each (a listed source reaches, an unlisted one does not). */
  readonly exposureCompared: number;
  readonly exposureAgree: number;
  /** Of those, how many sources exposure() lists as reaching. */
  readonly exposureReachable: number;
  readonly undecidable: number;
  readonly hairpin: number;
  readonly disagreements: readonly string[];
  /** Rulesets the kernel's own restore tool refused (real-world files only). */
  readonly refused: readonly string[];
  /** How many compared packets ended where (container, host, forward, none), to show the mix was real. */
  readonly outcomes: ReadonlyMap<string, number>;
}

/**
 * Sends every plan's probes through the kernel on each backend and compares outcome and rule
 * path with the simulator's trace. `refusedIsFine`: a file iptables-restore rejects is listed
 * and skipped instead of failing the run (real-world dumps; npm run check:external lists why).
 */
async function compareWithKernel(plans: readonly { c: Case; p: Plan }[], probesPerRuleset: number, exposureSourcesPerEntry: number, refusedIsFine: boolean): Promise<Tally> {
  const backends = availability.ok ? availability.backends : [];
  let compared = 0;
  let agree = 0;
  let exposureCompared = 0;
  let exposureAgree = 0;
  let exposureReachable = 0;
  let undecidable = 0;
  let hairpin = 0;
  const disagreements: string[] = [];
  const refused: string[] = [];
  const outcomes = new Map<string, number>();
  // The backends run side by side (each its own namespaces): about half the wall time on two cores.
  await Promise.all(backends.map(async (backend) => {
    for (const { c, p } of plans) {
      const batchProbes = probes(p, `${c.name}`, probesPerRuleset);
      const exposureChecks = exposureProbes(p, `exposure ${c.name}`, exposureSourcesPerEntry);
      const batchOf = (list: readonly OracleProbe[]) => (p.facts.family === 'ipv6' ? { ruleset6: c.text, probes: list } : { ruleset: c.text, probes: list });
      const run = await runOracle({ topology: p.topology, backend, batches: [batchOf(batchProbes), batchOf(exposureChecks.map((x) => x.probe))] });
      const batch = run.batches[0]!;
      if (!batch.ok) {
        if (refusedIsFine) { refused.push(`${backend} ${c.name}: ${String(batch.error).split('\n')[0]}`); continue; }
        throw new Error(`${c.name}: oracle failed: ${batch.error}`);
      }
      for (const result of batch.results) {
        const probe = batchProbes.find((x) => x.id === result.id)!;
        if (result.sendError) continue;
        const trace = p.simulator.trace(simPacket(p, probe));
        if (trace.verdict === 'unknown') { undecidable++; continue; }
        // A container reaching its own published port needs hairpin mode on its bridge port,
        // which Docker sets and these test namespaces do not.
        if (probe.from.kind === 'container' && trace.final.dst === probe.from.address) { hairpin++; continue; }
        compared++;
        const kOut = kernelOutcome(result);
        const sOut = simOutcome(trace, p, probe);
        const where = kOut.split(' ')[0]!;
        outcomes.set(where, (outcomes.get(where) ?? 0) + 1);
        const skip = undecided(trace);
        const sameBridge = probe.from.kind === 'container' && trace.reaches.kind === 'container' && trace.reaches.interface === simPacket(p, probe).inInterface;
        let kPath = (sameBridge ? firstPass(kernelPath(result)) : kernelPath(result)).filter((k) => !skip.has(k));
        let sPath = simPath(trace, p);
        // Past a rule the simulator cannot decide (`-m limit` …) the kernel may have taken the
        // other branch to the same verdict: the paths are compared up to that rule.
        const branch = decidedPrefix(trace);
        if (branch !== undefined) { sPath = sPath.slice(0, branch); kPath = kPath.slice(0, branch); }
        if (kOut === sOut && kPath.join(' ') === sPath.join(' ')) { agree++; continue; }
        disagreements.push(`${backend} ${c.name} probe ${JSON.stringify(probe)}\n    kernel: ${kOut} via ${kPath.join(' → ')}\n    simulator: ${sOut} via ${sPath.join(' → ')}`);
      }
      const exposureBatch = run.batches[1]!;
      if (!exposureBatch.ok) throw new Error(`${c.name}: oracle failed on the exposure probes: ${exposureBatch.error}`);
      for (const result of exposureBatch.results) {
        const check = exposureChecks.find((x) => x.probe.id === result.id)!;
        if (result.sendError) continue;
        exposureCompared++;
        if (check.reachable) exposureReachable++;
        const kOut = kernelOutcome(result);
        if ((kOut === check.reached) === check.reachable) { exposureAgree++; continue; }
        disagreements.push(`${backend} ${c.name} exposure: ${check.label} is ${check.reachable ? 'reachable' : 'not reachable'}, the kernel: ${kOut}`);
      }
    }
  }));
  return { compared, agree, exposureCompared, exposureAgree, exposureReachable, undecidable, hairpin, disagreements, refused, outcomes };
}

function report(label: string, rulesets: number, probesPerRuleset: number, tally: Tally): void {
  const backends = availability.ok ? availability.backends : [];
  console.log(`sim-differential${label}: ${rulesets} rulesets × ${probesPerRuleset} probes on ${backends.join('+')}: ${tally.compared} packets compared, ${tally.agree} agree (${tally.undecidable} undecidable statically and ${tally.hairpin} hairpin probes not compared); kernel outcomes: ${[...tally.outcomes].sort().map(([k, n]) => `${k} ${n}`).join(', ')}; exposure() answers checked: ${tally.exposureCompared} (${tally.exposureReachable} listed sources, ${tally.exposureCompared - tally.exposureReachable} unlisted), ${tally.exposureAgree} agree`);
  for (const r of tally.refused) console.log(`  not loaded by the kernel's restore tool, skipped: ${r}`);
  for (const d of tally.disagreements.slice(0, Number(process.env.DFW_DIFF_SHOW ?? 25))) console.log(`  ${d}`);
}

/** DFW_DIFF_EXTERNAL: a folder of real dumps (e.g. ../shared/corpus-external) for the second test. */
const EXTERNAL = process.env.DFW_DIFF_EXTERNAL;
const PROBES_PER_EXTERNAL_RULESET = Number(process.env.DFW_DIFF_EXTERNAL_PROBES ?? 20);

/** The cases plan() can mirror (it leaves out what does not parse, ipsets, empty dumps), with their plans. */
function mirrorable(cases: readonly Case[]): { c: Case; p: Plan }[] {
  return cases.map((c) => ({ c, p: plan(c) })).filter((x): x is { c: Case; p: Plan } => x.p !== undefined);
}

describe.skipIf(!availability.ok)('simulator agrees with the kernel', () => {
  it('on corpus and generated Docker hosts, both backends', { timeout: 600_000 }, async () => {
    const plans = mirrorable([...corpusCases(), ...generatedCases()]);
    expect(plans.length).toBeGreaterThanOrEqual(20);
    const tally = await compareWithKernel(plans, PROBES_PER_RULESET, 2, false);
    report('', plans.length, PROBES_PER_RULESET, tally);
    expect(tally.exposureCompared).toBeGreaterThan(0);
    expect(tally.disagreements.length).toBe(0);
  });

  // Run by npm run check:external:kernel (and .ci/run) when ../shared/corpus-external exists.
  it.runIf(EXTERNAL !== undefined)('on real dumps from the external regression set, both backends', { timeout: 1_800_000 }, async () => {
    const plans = mirrorable(externalCases(EXTERNAL!));
    expect(plans.length).toBeGreaterThan(0);
    const tally = await compareWithKernel(plans, PROBES_PER_EXTERNAL_RULESET, 1, true);
    report(' (external)', plans.length, PROBES_PER_EXTERNAL_RULESET, tally);
    expect(tally.compared).toBeGreaterThan(0);
    expect(tally.disagreements.length).toBe(0);
  });
});
