// Types for netns.mjs (plain JavaScript so node scripts can import it without a build step).

export interface ExecResult {
  /** Exit code; null when the command was killed (timeout or signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface ExecOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
}

export interface Namespace {
  readonly name: string;
  exec(cmd: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

export interface RestoreOptions {
  readonly family: 'ipv4' | 'ipv6';
  readonly backend: 'nft' | 'legacy';
  readonly timeoutMs?: number;
}

export interface RestoreResult {
  readonly ok: boolean;
  readonly code: number | null;
  readonly stderr: string;
  readonly ms: number;
}

export function netnsAvailable(): { ok: true } | { ok: false; reason: string };
export function withScratchNamespace<T>(fn: (ns: Namespace) => Promise<T> | T): Promise<T>;
export function restoreTest(ns: Namespace, text: string, options: RestoreOptions): Promise<RestoreResult>;
export function restoreLoad(ns: Namespace, text: string, options: RestoreOptions): Promise<RestoreResult>;
export function legacyAvailable(ns: Namespace): Promise<boolean>;
