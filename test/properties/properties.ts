// The properties, shared by `npm test` (fixed seed, bounded runs: see the
// *.test.ts files next to this one) and `npm run fuzz` (random seed, many runs,
// time-bounded: scripts/fuzz.mjs). Each property is an arbitrary and a check
// that throws an Error saying what broke; fast-check shrinks the input.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { Family, ParseError, Ruleset } from '../../grammar/ast.ts';
import { parse, printRuleset } from '../../grammar/index.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { lintText } from '../../src/engine/engine.ts';
import { builtinRules } from '../../src/engine/registry.ts';
import type { Finding } from '../../src/engine/types.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { candidateInterfaces, representativeLocalAddress } from '../../src/sim/exposure.ts';
import { createSimulator, type RulesetSimulator } from '../../src/sim/index.ts';
import type { L4Protocol, ReachableFrom, Trace, TraceStep } from '../../src/sim/types.ts';
import { createRandom } from '../../scripts/gen/prng.mjs';
import { anyRulesetArb, DEFAULT_GEN, hostileTextArb, limitBytes, quoteArgument, rulesetArb, type GenOptions, type RenderedRuleset } from './arbitraries.ts';
import { dockerHostArb, renderDockerHost, type DockerHostSpec } from './docker-hosts.ts';
import { knownBugTrigger, lineCount, lineText, mutatedFileArb, type MutatedFile } from './mutations.ts';
import {
  addressText, cidrBoundaries, cidrMembership, interestingAddresses, interestingInterfaces, interestingPorts, MAX_ADDRESS,
  packetChoiceArb, packetFor, type PacketChoice,
} from './packets.ts';

/** Options the fuzz runner may change. */
export interface PropertyOptions {
  /** Also generate inputs that trigger bugs already reported. */
  readonly knownBugs: boolean;
  /** Larger rulesets (fuzz). */
  readonly large: boolean;
}

export const TEST_OPTIONS: PropertyOptions = { knownBugs: false, large: false };

export interface PropertyDef {
  readonly name: string;
  /** Runs in `npm test`. */
  readonly testRuns: number;
  build(options: PropertyOptions, onRun?: () => void): fc.IRawProperty<any, boolean>;
}

function failure(message: string, details: Record<string, unknown> = {}): Error {
  const lines = Object.entries(details).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value))}`);
  return new Error([message, ...lines].join('\n'));
}

function describeErrors(errors: readonly ParseError[], text: string): string {
  return errors.slice(0, 5).map((e) => `line ${e.span.line}:${e.span.column} ${e.message} | ${lineText(text, e.span.line)}`).join('\n    ');
}

function parseOne(text: string, family: Family, file = 'generated.txt'): Ruleset {
  const result = parse(text, { file, family });
  if (result.errors.length > 0) throw failure('a generated valid ruleset does not parse', { errors: describeErrors(result.errors, text) });
  if (result.rulesets.length !== 1) throw failure(`expected one ruleset, got ${result.rulesets.length}`);
  return result.rulesets[0]!;
}

function withoutSpans(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value, (key, v) => (key === 'span' ? undefined : v)));
}

/** The AST without positions: what printing must preserve. */
function shape(rulesets: readonly Ruleset[]): unknown {
  return JSON.parse(JSON.stringify(rulesets.map((r) => ({ family: r.family, tables: r.tables })), (key, value) => (key === 'span' ? undefined : value)));
}

function allRules(ruleset: Ruleset) {
  return ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
}

/** Counts of each value, for multiset comparisons. */
function multiset(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function genOptions(options: PropertyOptions, extra: Partial<GenOptions> = {}): Partial<GenOptions> {
  return { ...extra, knownBugs: options.knownBugs };
}


function size(options: PropertyOptions) {
  return options.large ? { maxTables: 5, maxChains: 8, maxStatements: 30 } : {};
}

// ---------------------------------------------------------------------------
// Parsing and printing

export function checkParsesCleanly(r: RenderedRuleset): void {
  const ruleset = parseOne(r.text, r.spec.family);
  // Every comment and log prefix comes back exactly as written before quoting (rules deleted
  // by -D/-F/-R take theirs with them, so the parsed ones are a sub-multiset).
  const parsedComments = allRules(ruleset).flatMap((rule) => rule.matches.flatMap((m) => (m.kind === 'comment' ? [m.comment] : [])));
  const written = multiset(r.comments);
  for (const [value, count] of multiset(parsedComments)) {
    if ((written.get(value) ?? 0) < count) throw failure('a comment did not survive quoting', { parsed: value, written: r.comments });
  }
  const parsedPrefixes = allRules(ruleset).flatMap((rule) => (rule.target?.kind === 'LOG' && rule.target.prefix !== undefined ? [rule.target.prefix] : []));
  const writtenPrefixes = multiset(r.logPrefixes);
  for (const [value, count] of multiset(parsedPrefixes)) {
    if ((writtenPrefixes.get(value) ?? 0) < count) throw failure('a log prefix did not survive quoting', { parsed: value, written: r.logPrefixes });
  }
}

export function checkRoundTrip(r: RenderedRuleset): void {
  const first = parse(r.text, { file: 'generated.txt', family: r.spec.family });
  if (first.errors.length > 0) throw failure('does not parse', { errors: describeErrors(first.errors, r.text) });
  const printed = first.rulesets.map((rs) => printRuleset(rs)).join('');
  const second = parse(printed, { file: 'generated.txt', family: r.spec.family });
  if (second.errors.length > 0) throw failure('print(parse(x)) does not parse', { errors: describeErrors(second.errors, printed), printed });
  const a = shape(first.rulesets);
  const b = shape(second.rulesets);
  if (!isDeepStrictEqual(a, b)) {
    const rulesA = first.rulesets.flatMap(allRules);
    const rulesB = second.rulesets.flatMap(allRules);
    const i = rulesA.findIndex((rule, k) => !isDeepStrictEqual(withoutSpans(rule), withoutSpans(rulesB[k])));
    throw failure('parse(print(ast)) differs from ast', {
      firstDifferentRule: i === -1 ? 'chains, policies or counters differ' : `${JSON.stringify(withoutSpans(rulesA[i]))}\n  ⟶ ${JSON.stringify(withoutSpans(rulesB[i]))}`,
      text: r.text,
      printed,
    });
  }
  const reprinted = second.rulesets.map((rs) => printRuleset(rs)).join('');
  if (reprinted !== printed) throw failure('printing is not stable: print(parse(print(ast))) ≠ print(ast)', { printed, reprinted });
}

/** One rule whose comment and log prefix are arbitrary text, quoted in every style iptables-restore reads. */
const quotingArb: fc.Arbitrary<QuotingCase> = fc.record({
  family: fc.constantFrom<Family>('ipv4', 'ipv6'),
  comment: hostileTextArb.map((t) => limitBytes(t, 255)),
  commentStyle: fc.nat(100),
  prefix: hostileTextArb.map((t) => limitBytes(t, 29)),
  prefixStyle: fc.nat(100),
});

export interface QuotingCase {
  readonly family: Family;
  readonly comment: string;
  readonly commentStyle: number;
  readonly prefix: string;
  readonly prefixStyle: number;
}

export function checkQuoting(q: QuotingCase): void {
  const text = `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment ${quoteArgument(q.comment, q.commentStyle)} -j LOG --log-prefix ${quoteArgument(q.prefix, q.prefixStyle)}\nCOMMIT\n`;
  const ruleset = parseOne(text, q.family);
  const rule = allRules(ruleset)[0];
  const comment = rule?.matches.find((m) => m.kind === 'comment');
  if (comment?.kind !== 'comment' || comment.comment !== q.comment) throw failure('comment changed by quoting', { written: q.comment, line: lineText(text, 3), parsed: comment?.kind === 'comment' ? comment.comment : undefined });
  if (rule?.target?.kind !== 'LOG' || rule.target.prefix !== q.prefix) throw failure('log prefix changed by quoting', { written: q.prefix, line: lineText(text, 3) });
  checkRoundTrip({ text, spec: { family: q.family, header: false, tables: [], loops: false }, comments: [q.comment], logPrefixes: [q.prefix], undecidable: false });
}

// ---------------------------------------------------------------------------
// Simulation

const TRACE_BUDGET_MS = 3000;

/**
 * Follows the primary walk's steps with a chain stack, as the kernel would: a jump
 * pushes, a goto replaces the top, a return pops, and a step in a lower chain means
 * the chains above it fell off their end. True when some jump or goto enters a chain
 * already on the stack: a loop the kernel would refuse.
 */
export function walkEntersLoop(steps: readonly TraceStep[]): boolean {
  let stack: string[] = [];
  let segment = '';
  for (const step of steps) {
    const key = `${step.hook}/${step.table}`;
    if (key !== segment) { segment = key; stack = [step.chain]; }
    while (stack.length > 0 && stack[stack.length - 1] !== step.chain) stack.pop();
    if (stack.length === 0) stack = [step.chain];
    if (step.action === 'jump' || step.action === 'goto') {
      const target = /(?:^| )-[jg] (\S+)$/.exec(step.rule)?.[1];
      if (target === undefined) continue;
      if (stack.includes(target)) return true;
      if (step.action === 'goto') stack[stack.length - 1] = target;
      else stack.push(target);
    } else if (step.action === 'return') {
      stack.pop();
    }
  }
  return false;
}

export function checkTraces(sim: Pick<RulesetSimulator, 'trace'>, ruleset: Ruleset, text: string, choices: readonly PacketChoice[], undecidable: boolean): void {
  const pools = { addresses: interestingAddresses(ruleset), ports: interestingPorts(ruleset), interfaces: interestingInterfaces(ruleset) };
  const lines = lineCount(text);
  for (const choice of choices) {
    const packet = packetFor(ruleset, choice, pools);
    const started = performance.now();
    let trace: Trace;
    try {
      trace = sim.trace(packet);
    } catch (error) {
      throw failure(`trace threw: ${error instanceof Error ? error.message : String(error)}`, { packet });
    }
    const ms = performance.now() - started;
    if (ms > TRACE_BUDGET_MS) throw failure(`trace took ${ms.toFixed(0)} ms`, { packet, steps: trace.steps.length });
    if (!['accept', 'drop', 'reject', 'unknown'].includes(trace.verdict)) throw failure(`verdict ${String(trace.verdict)}`, { packet });
    for (const step of trace.steps) {
      if (step.line < 0 || step.line > lines) throw failure(`a trace step points at line ${step.line} of ${lines}`, { packet, step });
    }
    const loop = walkEntersLoop(trace.steps);
    const reportsLoop = trace.uncertain.some((u) => /loop/.test(u.reason));
    if (loop && (trace.verdict !== 'unknown' || !reportsLoop)) {
      throw failure('the walk entered a chain already on the stack, but the verdict is not unknown with a loop reported', { packet, verdict: trace.verdict, uncertain: trace.uncertain, steps: trace.steps.map((s) => `${s.hook} ${s.table} ${s.rule} → ${s.action}`) });
    }
    if (!undecidable && trace.verdict === 'unknown' && !loop) {
      throw failure('verdict unknown without a loop or an undecidable match', { packet, uncertain: trace.uncertain, steps: trace.steps.map((s) => `${s.hook} ${s.table} ${s.rule} → ${s.action}`) });
    }
    if (!undecidable && !loop && reportsLoop) {
      throw failure('a loop is reported where the walk has none', { packet, uncertain: trace.uncertain, steps: trace.steps.map((s) => `${s.hook} ${s.table} ${s.rule} → ${s.action}`) });
    }
  }
}

export function checkSimulator(r: RenderedRuleset, choices: readonly PacketChoice[]): void {
  const ruleset = parseOne(r.text, r.spec.family);
  const sim = createSimulator(ruleset, recogniseDocker(ruleset));
  checkTraces(sim, ruleset, r.text, choices, r.undecidable);
}

// ---------------------------------------------------------------------------
// Exposure against brute force

interface Question {
  readonly label: string;
  readonly proto: L4Protocol;
  readonly dst: string;
  readonly dport: number;
  readonly reached: (t: Trace) => boolean;
  readonly from: readonly ReachableFrom[];
  /** Sources that get through only on some outcomes of undecidable matches. */
  readonly maybe: readonly ReachableFrom[];
}

/**
 * For every question exposure() answered (published ports, direct container access,
 * host ports) and every interface it asked about, walks concrete packets from chosen
 * sources — both ends of every CIDR in the answer and their outside neighbours, both
 * ends of every address the ruleset matches, specials, random addresses — and checks
 * that a source gets through exactly when the answer's CIDRs contain it.
 */
export function checkExposure(ruleset: Ruleset, pickSeed: number, perQuestion = 10): number {
  const family = ruleset.family;
  const docker = recogniseDocker(ruleset);
  const sim = createSimulator(ruleset, docker);
  const exposure = sim.exposure();
  const external = sim.host.externalInterfaces;
  const interfaces = candidateInterfaces(sim, external.length > 0 && external[0] !== 'eth0' ? external : undefined);
  const local = representativeLocalAddress(sim);
  const questions: Question[] = [];
  const published = docker.published.filter((p) => p.dnatRule);
  const toContainerOrHost = (t: Trace) => t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host');
  exposure.published.forEach((e, i) => {
    questions.push({ label: `published ${e.proto}/${e.hostPort}`, proto: e.proto as L4Protocol, dst: published[i]?.hostAddress ?? local, dport: e.hostPort, reached: toContainerOrHost, from: e.reachableFrom, maybe: e.conditionallyReachableFrom });
  });
  for (const e of exposure.direct) {
    questions.push({ label: `direct ${e.proto} ${e.hostAddress}:${e.hostPort}`, proto: e.proto as L4Protocol, dst: e.hostAddress, dport: e.hostPort, reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container', from: e.reachableFrom, maybe: e.conditionallyReachableFrom });
  }
  for (const e of exposure.host) {
    questions.push({ label: `host ${e.proto}/${e.hostPort}`, proto: e.proto as L4Protocol, dst: local, dport: e.hostPort, reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'host', from: e.reachableFrom, maybe: e.conditionallyReachableFrom });
  }
  const random = createRandom(pickSeed);
  const pool = interestingAddresses(ruleset);
  let walks = 0;
  for (const q of questions) {
    for (const r of q.from) {
      if (!interfaces.includes(r.interface)) throw failure(`${q.label}: exposure names interface ${r.interface}, which it was not asked about`, { interfaces });
    }
    for (const iface of interfaces) {
      const cidrs = q.from.find((r) => r.interface === iface)?.sources ?? [];
      const maybeCidrs = q.maybe.find((r) => r.interface === iface)?.sources ?? [];
      const inside = cidrMembership(family, cidrs);
      const insideMaybe = cidrMembership(family, maybeCidrs);
      const boundaries = [...new Set([...cidrBoundaries(family, cidrs), ...cidrBoundaries(family, maybeCidrs)])];
      const chosen = new Set<bigint>();
      while (chosen.size < perQuestion / 2 && boundaries.length > 0 && chosen.size < boundaries.length) chosen.add(boundaries[random.int(0, boundaries.length - 1)]!);
      while (chosen.size < perQuestion - 2 && chosen.size < pool.length) chosen.add(pool[random.int(0, pool.length - 1)]!);
      const max = MAX_ADDRESS[family];
      for (let k = 0; k < 2; k++) chosen.add(family === 'ipv4' ? BigInt(random.int(0, 0xffffffff)) : (BigInt(random.int(0, 0xffffffff)) << 96n | BigInt(random.int(0, 0xffffffff))) & max);
      for (const value of chosen) {
        const src = addressText(family, value);
        const packet = { family, proto: q.proto, src, dst: q.dst, sport: 40000, dport: q.dport, inInterface: iface === '*' ? 'dfw-other0' : iface, state: 'NEW' as const };
        const trace = sim.trace(packet);
        walks++;
        const got = q.reached(trace);
        const expected = inside(src);
        // "Maybe" sources are exactly those whose fate the walk cannot decide (and some outcome reaches).
        if (insideMaybe(src) && (expected || trace.verdict !== 'unknown')) {
          throw failure(`${q.label} from ${src} on ${iface}: exposure says maybe reachable${expected ? ' and reachable' : ''}, the walk says ${trace.verdict}`, {
            exposureSources: cidrs, maybeSources: maybeCidrs, packet, reason: trace.reason,
          });
        }
        if (got !== expected) {
          throw failure(`${q.label} from ${src} on ${iface}: exposure says ${expected ? 'reachable' : 'not reachable'}, the walk says ${trace.verdict} (${trace.reaches.kind})`, {
            exposureSources: cidrs, packet, reason: trace.reason, steps: trace.steps.map((s) => `${s.hook} ${s.table} ${s.rule} → ${s.action}${s.matched === 'unknown' ? ' (unknown)' : ''}`),
          });
        }
      }
    }
  }
  return walks;
}

// ---------------------------------------------------------------------------
// Whole lint on generated and mutated input

function checkLocations(text: string, errors: readonly ParseError[], findings: readonly Finding[], file: string): void {
  const lines = lineCount(text);
  for (const e of errors) {
    const { line, column, endColumn } = e.span;
    const length = lineText(text, line).length;
    const ok = e.span.file === file && Number.isInteger(line) && line >= 1 && line <= Math.max(1, lines)
      && Number.isInteger(column) && column >= 1 && column <= length + 1 && endColumn >= column && endColumn <= length + 2;
    if (!ok) throw failure(`an error points outside the input: ${file}:${line}:${column}-${endColumn} (${lines} lines, line length ${length})`, { message: e.message });
  }
  for (const f of findings) {
    if (f.file !== file || !Number.isInteger(f.line) || f.line < 1 || f.line > Math.max(1, lines) || f.column < 1) {
      throw failure(`a finding points outside the input: ${f.file}:${f.line}:${f.column}`, { rule: f.ruleId, message: f.message });
    }
  }
}

export function checkLint(text: string, family: Family | undefined, file = 'input.txt'): { errors: number; findings: number } {
  let result: ReturnType<typeof lintText>;
  try {
    result = lintText(text, { rules: builtinRules, file, family });
  } catch (error) {
    throw failure(`lintText threw: ${error instanceof Error ? `${error.message}\n${error.stack}` : String(error)}`);
  }
  const internal = result.findings.filter((f) => f.ruleId === 'DFW900');
  if (internal.length > 0) throw failure('a rule crashed (DFW900 internal error)', { messages: internal.map((f) => f.message) });
  checkLocations(text, result.errors, result.findings, file);
  return { errors: result.errors.length, findings: result.findings.length };
}

export function checkMutatedFile(m: MutatedFile, knownBugs = false): void {
  // Inputs that trip a bug already reported are skipped (fc.pre) unless fuzzing for known bugs.
  if (!knownBugs) fc.pre(knownBugTrigger(m.text) === undefined);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(m.text, { file: 'mutated.txt' });
  } catch (error) {
    throw failure(`parse threw: ${error instanceof Error ? `${error.message}\n${error.stack}` : String(error)}`, { file: m.name, mutations: m.mutations });
  }
  checkLocations(m.text, parsed.errors, [], 'mutated.txt');
  checkLint(m.text, undefined, 'mutated.txt');
}

let cliDir: string | undefined;

/**
 * The whole CLI, in-process, on a mutated file written to disk (decoded by the CLI itself):
 * exit 0, 1 or 2 — 2 whenever the file has parse errors —, valid JSON on stdout whose
 * errors and findings point at lines that exist, and never a stack trace or "internal error".
 */
export async function checkMutatedCli(m: MutatedFile, knownBugs = false): Promise<void> {
  const text = m.bytes.toString('utf8');
  if (!knownBugs) fc.pre(knownBugTrigger(text) === undefined);
  cliDir ??= mkdtempSync(join(tmpdir(), 'dockfw-fuzz-cli-'));
  writeFileSync(join(cliDir, 'host.txt'), m.bytes);
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    cwd: cliDir, env: {},
    stdout: { write: (t) => { stdout += t; }, isTTY: false },
    stderr: { write: (t) => { stderr += t; }, isTTY: false },
    readStdin: () => undefined,
    today: '2030-01-01',
  };
  const code = await run(['--format', 'json', 'host.txt'], io);
  if (code !== 0 && code !== 1 && code !== 2) throw failure(`exit code ${code}`, { stderr });
  if (/internal error|\n\s+at .+:\d+:\d+\)?/.test(stderr)) throw failure('an internal error or a stack trace on stderr', { stderr: stderr.slice(0, 2000) });
  let report: { errors: { file: string; line: number; column: number; endColumn: number; message: string }[]; findings: { ruleId: string; file: string; line: number; column: number }[] };
  try {
    report = JSON.parse(stdout);
  } catch {
    throw failure('stdout is not JSON', { stdout: stdout.slice(0, 500) });
  }
  const parseErrors = parse(text, { file: 'host.txt' }).errors.length;
  if (parseErrors > 0 && code !== 2) throw failure(`${parseErrors} parse errors but exit ${code}`);
  if (report.errors.length !== parseErrors) throw failure(`JSON lists ${report.errors.length} errors, parse() finds ${parseErrors}`);
  if (report.findings.some((f) => f.ruleId === 'DFW900')) throw failure('DFW900 internal error', { findings: report.findings.filter((f) => f.ruleId === 'DFW900') });
  checkLocations(text, report.errors.map((e) => ({ span: { file: e.file, line: e.line, column: e.column, endColumn: e.endColumn }, message: e.message })),
    report.findings as unknown as Finding[], 'host.txt');
}

// ---------------------------------------------------------------------------
// The catalogue

/** `onRun` is called before each run (the fuzz runner's watchdog counts runs with it). */
type OnRun = (() => void) | undefined;

function sync<T>(arb: fc.Arbitrary<T>, check: (value: T) => void, onRun: OnRun): fc.IRawProperty<[T], boolean> {
  return fc.property(arb, (value) => { onRun?.(); check(value); });
}

function async<T>(arb: fc.Arbitrary<T>, check: (value: T) => Promise<void>, onRun: OnRun): fc.IRawProperty<[T], boolean> {
  return fc.asyncProperty(arb, async (value) => { onRun?.(); await check(value); });
}

export const PROPERTIES: readonly PropertyDef[] = [
  {
    name: 'parse-valid',
    testRuns: 300,
    build: (o, onRun) => sync(anyRulesetArb(genOptions(o), size(o)), checkParsesCleanly, onRun),
  },
  {
    name: 'round-trip',
    testRuns: 300,
    build: (o, onRun) => sync(anyRulesetArb(genOptions(o), size(o)), checkRoundTrip, onRun),
  },
  {
    name: 'quoting',
    testRuns: 400,
    build: (_o, onRun) => sync(quotingArb, checkQuoting, onRun),
  },
  {
    name: 'simulator-terminates',
    testRuns: 250,
    build: (o, onRun) => sync(
      fc.tuple(
        fc.tuple(fc.constantFrom<Family>('ipv4', 'ipv6'), fc.boolean(), fc.boolean()).chain(([family, loops, decidableOnly]) => rulesetArb({ ...DEFAULT_GEN, ...genOptions(o), family, loops, decidableOnly }, size(o))),
        fc.array(packetChoiceArb, { minLength: 1, maxLength: 8 }),
      ),
      ([r, choices]) => checkSimulator(r, choices),
      onRun,
    ),
  },
  {
    name: 'lint-generated',
    testRuns: 60,
    build: (o, onRun) => sync(anyRulesetArb(genOptions(o), size(o)), (r) => { checkLint(r.text, r.spec.family, 'generated.txt'); }, onRun),
  },
  {
    name: 'exposure-docker',
    testRuns: 60,
    build: (o, onRun) => sync(fc.tuple(dockerHostArb({ ...DEFAULT_GEN, ...genOptions(o) }), fc.nat()), ([spec, pick]: [DockerHostSpec, number]) => {
      checkExposure(parseOne(renderDockerHost(spec), 'ipv4', 'docker-host.txt'), pick);
    }, onRun),
  },
  {
    name: 'exposure-generic',
    testRuns: 120,
    build: (o, onRun) => sync(
      fc.tuple(fc.constantFrom<Family>('ipv4', 'ipv6').chain((family) => rulesetArb({ ...DEFAULT_GEN, ...genOptions(o), family }, size(o))), fc.nat()),
      ([r, pick]) => { checkExposure(parseOne(r.text, r.spec.family), pick, 8); },
      onRun,
    ),
  },
  {
    name: 'mutated-corpus',
    testRuns: 120,
    build: (o, onRun) => sync(mutatedFileArb(), (m) => checkMutatedFile(m, o.knownBugs), onRun),
  },
  {
    name: 'mutated-cli',
    testRuns: 40,
    build: (o, onRun) => async(mutatedFileArb(), (m) => checkMutatedCli(m, o.knownBugs), onRun),
  },
];

export function propertyNamed(name: string): PropertyDef {
  const found = PROPERTIES.find((p) => p.name === name);
  if (!found) throw new Error(`no property ${name}`);
  return found;
}
