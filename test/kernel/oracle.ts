// Kernel oracle: what the real Linux netfilter does with probe packets, for differential tests
// of the simulator. A long-lived python helper (oracle/server.py, stdlib only: node has no raw or
// netlink sockets) builds a Docker-host topology in network namespaces and runs any number of
// rulesets x probes through it; this module drives it over JSON lines. See oracle/README.md.
//
// Everything happens in namespaces named `dfo<pid>t<n>-*`; nothing touches the root namespace,
// and the namespaces are deleted when the session closes, on errors, and on process exit.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import type {
  OracleAvailability,
  OracleBackend,
  OracleBatch,
  OracleBatchResult,
  OracleBatchStats,
  OracleProbeResult,
  OracleRun,
  OracleRunOptions,
  OracleTopology,
} from './oracle/types.ts';

export type * from './oracle/types.ts';

export const ORACLE_PYTHON = '/usr/bin/python3';
const SERVER = fileURLToPath(new URL('./oracle/server.py', import.meta.url));
const NETNS_DIR = '/run/netns';
const DEFAULT_TIMEOUT_MS = 60_000;

/** Prefix of every namespace this process creates. */
export const ORACLE_NETNS_PREFIX = `dfo${process.pid}t`;

let counter = 0;
let availability: OracleAvailability | undefined;

/** Can the oracle run here (root, `ip netns`, /usr/bin/python3, iptables-nft-restore, nft)?
 * Also tells which backends work: legacy xtables may be compiled out of the kernel. Cached. */
export function oracleAvailable(): OracleAvailability {
  availability ??= probeAvailability();
  return availability;
}

function probeAvailability(): OracleAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not running as root' };
  for (const [cmd, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    [ORACLE_PYTHON, ['-c', 'import ctypes, socket; socket.AF_PACKET'], 'python3'],
    ['iptables-nft-restore', ['--version'], 'iptables'],
    ['nft', ['--version'], 'nftables'],
  ] as const) {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    if (r.error || r.status !== 0) return { ok: false, reason: `${cmd} does not run (install ${pkg})` };
  }
  const scratch = `${ORACLE_NETNS_PREFIX}${++counter}-probe`;
  const added = spawnSync('ip', ['netns', 'add', scratch], { encoding: 'utf8', timeout: 10_000 });
  if (added.status !== 0) return { ok: false, reason: `ip netns add failed: ${firstLine(added.stderr)}` };
  try {
    const exec = (cmd: string, input: string) =>
      spawnSync('ip', ['netns', 'exec', scratch, cmd], { input, encoding: 'utf8', timeout: 10_000 });
    const nft = exec('iptables-nft-restore', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n');
    if (nft.status !== 0) return { ok: false, reason: `iptables-nft-restore fails in a netns: ${firstLine(nft.stderr)}` };
    const legacy = exec('iptables-legacy-restore', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n');
    if (legacy.error || legacy.status !== 0) {
      const why = legacy.error ? legacy.error.message : firstLine(legacy.stderr) || `exit ${legacy.status}`;
      return { ok: true, backends: ['nft'], legacyReason: `iptables-legacy-restore unusable: ${why}` };
    }
    return { ok: true, backends: ['nft', 'legacy'] };
  } finally {
    spawnSync('ip', ['netns', 'delete', scratch], { stdio: 'ignore', timeout: 10_000 });
  }
}

/** Run batches (ruleset + probes) through one topology and tear it down again. */
export async function runOracle(options: OracleRunOptions): Promise<OracleRun> {
  const started = performance.now();
  const backend = options.backend ?? 'nft';
  const session = await OracleSession.start(options.topology, backend, options.timeoutMs);
  try {
    const batches: OracleBatchResult[] = [];
    for (const batch of options.batches) batches.push(await session.run(batch));
    return { backend, setupMs: session.setupMs, totalMs: performance.now() - started, batches };
  } finally {
    await session.close();
  }
}

type Pending = { resolve: (msg: Record<string, unknown>) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

const liveSessions = new Set<OracleSession>();

/** One topology and its python helper; batches run one after another. Always close() it. */
export class OracleSession {
  readonly prefix: string;
  readonly backend: OracleBackend;
  /** Logical node name ("host", "ext:eth0", "container:172.17.0.2") -> namespace name. */
  namespaces: Record<string, string> = {};
  setupMs = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private buffer = '';
  private stderr = '';
  private exited: Promise<void>;
  private dead: Error | undefined;

  private constructor(backend: OracleBackend, private readonly timeoutMs: number) {
    this.backend = backend;
    this.prefix = `${ORACLE_NETNS_PREFIX}${++counter}-`;
    installCleanupHooks();
    this.child = spawn(ORACLE_PYTHON, ['-B', SERVER, '--prefix', this.prefix, '--backend', backend], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    liveSessions.add(this);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.fail(new Error(`oracle helper: ${error.message}`));
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.fail(new Error(`oracle helper exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
        liveSessions.delete(this);
        deleteNamespacesSync(this.prefix); // normally already gone: the helper cleans up itself
        resolve();
      });
    });
  }

  /** Build the topology (about 0.1 s) in a fresh set of namespaces. */
  static async start(topology: OracleTopology, backend: OracleBackend = 'nft', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<OracleSession> {
    const session = new OracleSession(backend, timeoutMs);
    try {
      const answer = await session.request({ op: 'setup', topology });
      if (answer.ok !== true) throw new Error(`oracle setup failed: ${String(answer.error)}`);
      session.namespaces = answer.namespaces as Record<string, string>;
      session.setupMs = answer.setupMs as number;
      return session;
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  /** Load the batch's ruleset(s), flush conntrack, send the probes. A bad ruleset or probe
   * gives { ok: false, error } and leaves the session usable. */
  async run(batch: OracleBatch): Promise<OracleBatchResult> {
    const answer = await this.request({ op: 'batch', ...batch });
    if (answer.ok !== true) return { ok: false, error: String(answer.error), results: [] };
    return { ok: true, results: answer.results as OracleProbeResult[], stats: answer.stats as OracleBatchStats };
  }

  /** Tear the topology down; resolves once every namespace is gone. */
  async close(): Promise<void> {
    if (!this.dead && this.child.exitCode === null) {
      this.child.stdin.end(`${JSON.stringify({ op: 'close' })}\n`);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    } else {
      await this.exited;
    }
  }

  private request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGTERM');
        this.fail(new Error(`oracle helper: no answer to ${String(msg.op)} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderr += `\n(unparsable output) ${line.slice(0, 200)}`;
        continue;
      }
      if (msg.closed === true) continue;
      const waiter = this.pending.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve(msg);
      }
    }
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  /** Synchronous last-resort cleanup (process exit). */
  killSync(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    deleteNamespacesSync(this.prefix);
  }
}

/** Namespaces of this process still present (should be none outside a session). */
export function leftoverNamespaces(prefix = ORACLE_NETNS_PREFIX): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((name) => name.startsWith(prefix));
}

function deleteNamespacesSync(prefix: string): void {
  for (const name of leftoverNamespaces(prefix)) {
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 10_000 });
  }
}

let hooksInstalled = false;

function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const session of liveSessions) session.killSync();
  });
  // Signals reach only the main thread; take them over only where nobody else listens,
  // then re-raise so the process still dies the way it was asked to.
  if (!isMainThread) return;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      for (const session of liveSessions) session.killSync();
      process.kill(process.pid, signal);
    });
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}
