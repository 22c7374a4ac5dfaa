// Scratch network namespaces for asking the real kernel (and iptables-restore) about a ruleset.
//
// Plain ESM with JSDoc types so node scripts and vitest tests share it. Nothing here ever
// touches the root namespace's firewall: every iptables command runs through
// `ip netns exec <scratch>`, and every namespace created here is deleted again — after `fn`
// returns or throws, and on process exit or SIGINT/SIGTERM if the process dies first.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

/**
 * @typedef {{ code: number | null, stdout: string, stderr: string, ms: number, timedOut: boolean }} ExecResult
 * @typedef {{ input?: string, timeoutMs?: number }} ExecOptions
 * @typedef {{ readonly name: string, exec(cmd: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult> }} Namespace
 * @typedef {'ipv4' | 'ipv6'} Family
 * @typedef {'nft' | 'legacy'} Backend
 * @typedef {{ family: Family, backend: Backend, timeoutMs?: number }} RestoreOptions
 * @typedef {{ ok: boolean, code: number | null, stderr: string, ms: number }} RestoreResult
 */

const DEFAULT_TIMEOUT_MS = 30_000;

/** Namespaces this process created and has not deleted yet. */
const liveNamespaces = new Set();
let cleanupHooksInstalled = false;
let nameCounter = 0;

/** @type {{ok: true} | {ok: false, reason: string} | undefined} */
let availability;

/**
 * Whether scratch namespaces with iptables can be used here. Cached after the first call.
 * @returns {{ok: true} | {ok: false, reason: string}}
 */
export function netnsAvailable() {
  availability ??= probeAvailability();
  return availability;
}

function probeAvailability() {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not running as root' };
  if (!commandRuns('ip', ['-V'])) return { ok: false, reason: 'no `ip` command (install iproute2)' };
  if (!commandRuns('iptables-restore', ['--version'])) return { ok: false, reason: 'no iptables-restore (install iptables)' };
  const name = uniqueName('probe');
  const added = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', timeout: 10_000 });
  if (added.status !== 0) {
    return { ok: false, reason: `\`ip netns add\` failed: ${firstLine(added.stderr) || added.error?.message || 'unknown error'}` };
  }
  spawnSync('ip', ['netns', 'delete', name], { timeout: 10_000 });
  return { ok: true };
}

/**
 * Creates a fresh namespace, runs `fn` with it, and always deletes it afterwards.
 * @template T
 * @param {(ns: Namespace) => Promise<T> | T} fn
 * @returns {Promise<T>}
 */
export async function withScratchNamespace(fn) {
  const name = uniqueName('ns');
  installCleanupHooks();
  const added = await run('ip', ['netns', 'add', name], {});
  if (added.code !== 0) throw new Error(`ip netns add ${name} failed: ${added.stderr.trim()}`);
  liveNamespaces.add(name);
  /** @type {Namespace} */
  const ns = {
    name,
    exec: (cmd, args = [], options = {}) => run('ip', ['netns', 'exec', name, cmd, ...args], options),
  };
  try {
    return await fn(ns);
  } finally {
    await run('ip', ['netns', 'delete', name], { timeoutMs: 10_000 });
    liveNamespaces.delete(name);
  }
}

/**
 * `iptables-restore --test` (or ip6tables, or the legacy variants) inside `ns`, `text` on stdin.
 * `--test` parses everything in user space and builds the tables but commits nothing, so the
 * kernel never checks hooks, targets per table or chain references on the nft backend.
 * @param {Namespace} ns
 * @param {string} text
 * @param {RestoreOptions} options
 * @returns {Promise<RestoreResult>}
 */
export async function restoreTest(ns, text, options) {
  return restore(ns, text, options, ['--test']);
}

/**
 * A real `iptables-restore` into the scratch namespace: the kernel validates every rule
 * (hooks, tables, chain references). Only for namespaces from withScratchNamespace.
 * @param {Namespace} ns
 * @param {string} text
 * @param {RestoreOptions} options
 * @returns {Promise<RestoreResult>}
 */
export async function restoreLoad(ns, text, options) {
  return restore(ns, text, options, []);
}

/**
 * @param {Namespace} ns
 * @param {string} text
 * @param {RestoreOptions} options
 * @param {string[]} extraArgs
 * @returns {Promise<RestoreResult>}
 */
async function restore(ns, text, { family, backend, timeoutMs = DEFAULT_TIMEOUT_MS }, extraArgs) {
  // Legacy takes /run/xtables.lock, which every namespace on the machine shares: wait for it
  // instead of failing when another process (ours or anyone's) holds it.
  const args = backend === 'legacy' ? ['--wait', ...extraArgs] : extraArgs;
  const result = await ns.exec(restoreCommand(family, backend), args, { input: text, timeoutMs });
  const stderr = result.timedOut ? `timed out after ${timeoutMs} ms\n${result.stderr}` : result.stderr;
  return { ok: result.code === 0, code: result.code, stderr, ms: result.ms };
}

/**
 * Whether iptables-legacy-restore works in this kernel (legacy xtables may be compiled out).
 * @param {Namespace} ns
 * @returns {Promise<boolean>}
 */
export async function legacyAvailable(ns) {
  const probe = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n';
  try {
    // `--test` still opens the kernel's legacy table (iptc_init), so it fails where legacy is compiled out.
    const result = await restoreTest(ns, probe, { family: 'ipv4', backend: 'legacy', timeoutMs: 10_000 });
    return result.ok;
  } catch {
    return false;
  }
}

/**
 * Explicit `-nft-` binaries where installed, so an alternatives switch cannot change the backend.
 * @param {Family} family
 * @param {Backend} backend
 */
function restoreCommand(family, backend) {
  const base = family === 'ipv6' ? 'ip6tables' : 'iptables';
  if (backend === 'legacy') return `${base}-legacy-restore`;
  nftRestoreInstalled[family] ??= commandRuns(`${base}-nft-restore`, ['--version']);
  return nftRestoreInstalled[family] ? `${base}-nft-restore` : `${base}-restore`;
}

/** @type {Partial<Record<Family, boolean>>} */
const nftRestoreInstalled = {};

/**
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {ExecOptions} options
 * @returns {Promise<ExecResult>}
 */
function run(cmd, args, { input, timeoutMs = DEFAULT_TIMEOUT_MS }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    /** @type {Buffer[]} */
    const stdout = [];
    /** @type {Buffer[]} */
    const stderr = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    // A child that exits before reading all of stdin makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      stderr.push(Buffer.from(`${error.message}\n`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? null : code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms: performance.now() - started,
        timedOut,
      });
    });
    child.stdin.end(input ?? '');
  });
}

/** @param {string} cmd @param {string[]} args */
function commandRuns(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return !result.error && result.status === 0;
}

/** `dfw<pid>-<kind>-<random><n>`: unique across processes and engineers sharing the machine. */
function uniqueName(/** @type {string} */ kind) {
  nameCounter += 1;
  return `dfw${process.pid}-${kind}-${randomBytes(3).toString('hex')}${nameCounter}`;
}

function deleteLiveNamespacesSync() {
  for (const name of liveNamespaces) {
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 10_000 });
    liveNamespaces.delete(name);
  }
}

function installCleanupHooks() {
  if (cleanupHooksInstalled) return;
  cleanupHooksInstalled = true;
  process.on('exit', deleteLiveNamespacesSync);
  // Signals reach only the main thread; only take them over where nobody else listens,
  // and re-raise after cleaning up so the process still dies the way it was asked to.
  if (!isMainThread) return;
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      deleteLiveNamespacesSync();
      process.kill(process.pid, signal);
    });
  }
}

/** @param {string | undefined} text */
function firstLine(text) {
  return (text ?? '').trim().split('\n')[0] ?? '';
}
