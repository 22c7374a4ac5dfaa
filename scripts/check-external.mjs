// Parses every real-world dump in ../shared/corpus-external with dockfw-lint and asks
// iptables-restore --test (nf_tables backend, in a scratch network namespace) about the same
// file. Fails on a crash or hang of parse(), and on any file the kernel accepts that
// dockfw-lint rejects. The files are read where they are and never copied.
//
//   npm run check:external            (builds dist/index.mjs first)
//   node scripts/check-external.mjs --verbose     lists every file, not only the differing ones
//
// parse() runs in a worker thread so a hang is caught: each file gets PARSE_TIMEOUT_MS, after
// which the worker is terminated and a fresh one takes the remaining files.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

const PARSE_TIMEOUT_MS = 20_000;
const KERNEL_CONCURRENCY = 4;
const SKIPPED_DIRECTORIES = new Set(['moby-nftablesdoc']); // nft syntax, not iptables-save
const SKIPPED_FILE = /^(SOURCES|README)(\.[a-z]+)?$/i;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const corpusRoot = resolve(projectRoot, '../shared/corpus-external');
const bundle = join(projectRoot, 'dist/index.mjs');

if (isMainThread) {
  process.exitCode = await main(process.argv.slice(2));
} else {
  await serveParses();
}

/** @param {string[]} args */
async function main(args) {
  const verbose = args.includes('--verbose');
  if (!existsSync(corpusRoot)) {
    console.log(`check-external: ${relative(projectRoot, corpusRoot)} not found, nothing to check`);
    return 0;
  }
  if (!existsSync(bundle)) {
    console.error('check-external: dist/index.mjs is missing; run `node scripts/build.mjs` (or `npm run check:external`)');
    return 2;
  }

  const files = listCorpus(corpusRoot).map((path) => {
    const text = readFileSync(path, 'utf8');
    return { path, name: relative(corpusRoot, path), text, family: decideFamily(path, text) };
  });

  const [parses, kernel] = await Promise.all([parseAll(files), kernelVerdicts(files)]);

  /** @type {{name: string, line: string}[]} */
  const failures = [];
  /** @type {string[]} */
  const differing = [];
  /** @type {string[]} */
  const listing = [];
  /** @type {string[]} */
  const earlier = [];
  const counts = { acceptedByBoth: 0, rejectedByBoth: 0, differ: 0, crashed: 0, hung: 0 };
  for (const [index, file] of files.entries()) {
    const parsed = parses[index];
    const verdict = kernel.verdicts?.[index];
    const ours = parsed.kind === 'parsed' ? (parsed.errors === 0 ? 'accepts' : 'rejects') : parsed.kind;
    const ourReason = parsed.kind === 'parsed' ? parsed.firstError : parsed.detail;
    const label = `${file.name} [${file.family}]`;
    if (parsed.kind !== 'parsed') {
      counts[parsed.kind] += 1;
      failures.push({ name: file.name, line: `${label}: dockfw-lint ${parsed.kind}: ${ourReason}` });
    }
    if (!verdict) {
      listing.push(`${label}: dockfw-lint ${ours}${ourReason ? ` (${ourReason})` : ''}`);
      continue;
    }
    const theirs = verdict.ok ? 'accepts' : 'rejects';
    const kernelReason = verdict.ok ? '' : ` (${verdict.reason})`;
    const line = `${label}: kernel ${theirs}${kernelReason}, dockfw-lint ${ours}${ourReason ? ` (${ourReason})` : ''}`;
    listing.push(line);
    if (ours === 'accepts' && verdict.ok) counts.acceptedByBoth += 1;
    else if (ours === 'rejects' && !verdict.ok) {
      counts.rejectedByBoth += 1;
      // iptables-restore stops at its first error: every earlier line passed it.
      const ourLine = parsed.kind === 'parsed' ? parsed.firstErrorLine : undefined;
      if (ourLine !== undefined && verdict.line !== undefined && ourLine < verdict.line) {
        earlier.push(`${label}: dockfw-lint rejects line ${ourLine}, which the kernel passed before stopping at line ${verdict.line} (${ourReason})`);
      }
    }
    else if (ours === 'accepts' || ours === 'rejects') {
      counts.differ += 1;
      differing.push(line);
      if (verdict.ok) failures.push({ name: file.name, line });
    }
  }

  const crashNote = counts.crashed + counts.hung > 0 ? `, ${counts.crashed} crashed, ${counts.hung} hung` : '';
  if (kernel.verdicts) {
    console.log(`${files.length} files, ${counts.acceptedByBoth} accepted by both, ${counts.rejectedByBoth} rejected by both, ${counts.differ} differ${crashNote}`);
    for (const line of verbose ? listing : differing) console.log(`  ${line}`);
    if (earlier.length > 0) {
      console.log(`${earlier.length} files rejected by both, but dockfw-lint first rejects a line the kernel accepted:`);
      for (const line of earlier) console.log(`  ${line}`);
    }
  } else {
    console.log(`check-external: kernel comparison skipped (${kernel.reason}); parsed ${files.length} files${crashNote}`);
    if (verbose) for (const line of listing) console.log(`  ${line}`);
  }
  const slowest = files
    .map((file, index) => ({ name: file.name, outcome: parses[index] }))
    .filter((entry) => entry.outcome.kind === 'parsed')
    .sort((a, b) => (b.outcome.kind === 'parsed' ? b.outcome.ms : 0) - (a.outcome.kind === 'parsed' ? a.outcome.ms : 0))[0];
  if (slowest && slowest.outcome.kind === 'parsed') console.log(`slowest parse: ${Math.round(slowest.outcome.ms)} ms (${slowest.name})`);
  for (const failure of failures) console.error(`FAIL ${failure.line}`);
  return failures.length > 0 ? 1 : 0;
}

/** Every dump under the corpus, in a stable order. @param {string} directory @returns {string[]} */
function listCorpus(directory) {
  /** @type {string[]} */
  const found = [];
  for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) found.push(...listCorpus(path));
    } else if (entry.isFile() && !SKIPPED_FILE.test(entry.name) && statSync(path).size > 0) {
      found.push(path);
    }
  }
  return found;
}

/**
 * The header iptables-save writes is the best witness, then the file name (the corpora name
 * their IPv6 dumps), then which kind of address the rules use.
 * @param {string} path @param {string} text @returns {'ipv4' | 'ipv6'}
 */
function decideFamily(path, text) {
  const header = /^# Generated by (ip6?)tables-save/m.exec(text);
  if (header) return header[1] === 'ip6' ? 'ipv6' : 'ipv4';
  if (/ip6tables|ipv6|(^|[^a-z0-9])v6([^a-z0-9]|$)/i.test(basename(path))) return 'ipv6';
  const v6 = (text.match(/\s-[sd] [0-9a-f]*:[0-9a-f:.]*(\/\d+)?\s|ipv6-icmp|icmpv6/gi) ?? []).length;
  const v4 = (text.match(/\s-[sd] \d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g) ?? []).length;
  return v6 > v4 ? 'ipv6' : 'ipv4';
}

/**
 * @typedef {{ok: boolean, reason: string, line: number | undefined}} KernelVerdict
 * `iptables-restore --test` for every file in one scratch namespace, a few at a time.
 * @param {{text: string, family: 'ipv4' | 'ipv6'}[]} files
 * @returns {Promise<{verdicts: KernelVerdict[], reason?: undefined} | {verdicts?: undefined, reason: string}>}
 */
async function kernelVerdicts(files) {
  const { netnsAvailable, restoreTest, withScratchNamespace } = await import('./lib/netns.mjs');
  const availability = netnsAvailable();
  if (!availability.ok) return { reason: availability.reason };
  const verdicts = await withScratchNamespace(async (ns) => {
    await createReferencedIpsets(ns, files);
    /** @type {KernelVerdict[]} */
    const results = new Array(files.length);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const index = next++;
        const file = files[index];
        const result = await restoreTest(ns, file.text, { family: file.family, backend: 'nft', timeoutMs: 120_000 });
        results[index] = { ok: result.ok, reason: result.ok ? '' : kernelReason(result.stderr), line: kernelErrorLine(result.stderr) };
      }
    };
    await Promise.all(Array.from({ length: KERNEL_CONCURRENCY }, worker));
    return results;
  });
  return { verdicts };
}

/**
 * A dump that uses `-m set` was saved on a host where those sets existed; iptables-restore
 * refuses the rule when they do not. Create empty ones (first family to name a set wins).
 * @param {import('./lib/netns.mjs').Namespace} ns
 * @param {{text: string, family: 'ipv4' | 'ipv6'}[]} files
 */
async function createReferencedIpsets(ns, files) {
  /** @type {Map<string, 'ipv4' | 'ipv6'>} */
  const sets = new Map();
  for (const file of files) {
    for (const match of file.text.matchAll(/--match-set\s+(\S+)/g)) {
      if (!sets.has(match[1])) sets.set(match[1], file.family);
    }
  }
  for (const [name, family] of sets) {
    await ns.exec('ipset', ['create', name, 'hash:net', 'family', family === 'ipv6' ? 'inet6' : 'inet']);
  }
}

/** The line iptables-restore stopped at, when it says. @param {string} stderr */
function kernelErrorLine(stderr) {
  const match = /Error occurred at line: (\d+)|line (\d+) failed|COMMIT expected at line (\d+)|line (\d+):/.exec(stderr);
  const number = match?.slice(1).find((group) => group !== undefined);
  return number === undefined ? undefined : Number(number);
}

/** The kernel's complaint in one line: its message and the line it names. @param {string} stderr */
function kernelReason(stderr) {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const message = lines
    .filter((line) => !/^(Try `|Error occurred at line)/.test(line))
    .map((line) => line.replace(/^ip6?tables-(nft-)?restore v[\d.]+ \([^)]*\):\s*/, ''))
    .filter(Boolean)
    .slice(0, 2)
    .join(' / ');
  const line = kernelErrorLine(stderr);
  const where = line !== undefined && !message.includes(`line ${line}`) ? ` (line ${line})` : '';
  return `${message || '(no message)'}${where}`;
}

/**
 * @typedef {{kind: 'parsed', errors: number, firstError: string, firstErrorLine?: number, ms: number} | {kind: 'crashed' | 'hung', detail: string}} ParseOutcome
 * @param {{path: string, text: string, family: 'ipv4' | 'ipv6'}[]} files
 * @returns {Promise<ParseOutcome[]>}
 */
async function parseAll(files) {
  /** @type {ParseOutcome[]} */
  const outcomes = [];
  let worker = startWorker();
  for (const file of files) {
    const outcome = await parseInWorker(worker, file);
    outcomes.push(outcome);
    if (outcome.kind === 'hung' || (outcome.kind === 'crashed' && outcome.detail.startsWith('worker'))) {
      await worker.terminate();
      worker = startWorker();
    }
  }
  await worker.terminate();
  return outcomes;
}

function startWorker() {
  return new Worker(fileURLToPath(import.meta.url), { workerData: { bundle: pathToFileURL(bundle).href } });
}

/**
 * @param {Worker} worker
 * @param {{path: string, text: string, family: 'ipv4' | 'ipv6'}} file
 * @returns {Promise<ParseOutcome>}
 */
function parseInWorker(worker, file) {
  return new Promise((resolvePromise) => {
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolvePromise({ kind: 'hung', detail: `no answer within ${PARSE_TIMEOUT_MS / 1000} s` });
    }, PARSE_TIMEOUT_MS);
    /** @param {any} message */
    const onMessage = (message) => {
      cleanup();
      resolvePromise(/** @type {ParseOutcome} */ (message));
    };
    /** @param {Error} error */
    const onError = (error) => {
      cleanup();
      resolvePromise({ kind: 'crashed', detail: `worker died: ${error.stack ?? error.message}` });
    };
    /** @param {number} code */
    const onExit = (code) => {
      cleanup();
      resolvePromise({ kind: 'crashed', detail: `worker exited with code ${code}` });
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ file: relative(projectRoot, file.path), text: file.text, family: file.family });
  });
}

/** Worker side: parse whatever the main thread sends, report counts and the first error. */
async function serveParses() {
  const { workerData } = await import('node:worker_threads');
  const { parse } = await import(workerData.bundle);
  parentPort?.on('message', ({ file, text, family }) => {
    const started = performance.now();
    try {
      const result = parse(text, { file, family });
      const ms = performance.now() - started;
      const first = result.errors[0];
      parentPort?.postMessage({
        kind: 'parsed',
        errors: result.errors.length,
        firstErrorLine: first?.span.line,
        ms,
        firstError: first ? `line ${first.span.line}:${first.span.column}: ${first.message}${first.found ? ` (found ${JSON.stringify(first.found)})` : ''}` : '',
      });
    } catch (error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      parentPort?.postMessage({ kind: 'crashed', detail: `parse threw: ${detail.split('\n').slice(0, 4).join(' | ')}` });
    }
  });
}
