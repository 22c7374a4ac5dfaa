// Types for index.mjs (plain JavaScript so node scripts can import it without a build step).

export type DockerLayout = '27' | '28.0.0' | '28.0.1' | '28.2.0' | '28.2.2' | '29';
export type DockerMistake = 'M1' | 'M2' | 'M3' | 'M4' | 'M8';

export interface DockerHostOptions {
  /** Bridge networks with published ports (docker0 first). Default 20. */
  readonly bridges?: number;
  /** Port mappings spread over the bridges' containers. Default 500. */
  readonly publishedPorts?: number;
  readonly seed?: number | string;
  /** Docker version whose iptables layout is replayed. Default '27'. */
  readonly layout?: DockerLayout;
  readonly userlandProxy?: boolean;
  readonly forwardPolicy?: 'ACCEPT' | 'DROP';
  /** Extra `--internal` networks (no published ports). */
  readonly internalNetworks?: number;
  /** How many user bridges (after docker0) have icc=false. */
  readonly iccDisabled?: number;
  /** Share of mappings published on 127.0.0.1. */
  readonly loopbackShare?: number;
  /** Share of mappings published on one specific host address. */
  readonly hostIpShare?: number;
  /** A typical hand-written INPUT policy. Default true. */
  readonly adminInput?: boolean;
  readonly mistakes?: readonly DockerMistake[];
  /** A correct DOCKER-USER filter (`--ctorigdstport`) for one published port. */
  readonly dockerUserRules?: boolean;
}

export interface GeneratedRuleset {
  readonly ruleCount: number;
  render(options?: { savedAt?: string; version?: string }): string;
}

export interface BenchFile {
  readonly name: string;
  readonly kind: 'kube-proxy' | 'docker';
  readonly path: string;
  readonly bytes: number;
  readonly rules: number;
  readonly sha256: string;
  readonly cached: boolean;
}

export const DOCKER_LAYOUTS: readonly DockerLayout[];
export const DOCKER_MISTAKES: Readonly<Record<DockerMistake, string>>;
export const DEFAULT_OUT_DIR: string;
export const BENCH_FILES: readonly { readonly name: string; readonly kind: 'kube-proxy' | 'docker'; generate(): string }[];

/** iptables-save text of a kube-proxy node with exactly `ruleCount` rules. */
export function kubeProxyRuleset(ruleCount: number, options?: { seed?: number | string }): string;
export function buildDockerHost(options?: DockerHostOptions): GeneratedRuleset;
export function dockerHostRuleset(options?: DockerHostOptions): string;
/** The options of fleet host `seed` (50–500 rules; `mistakes` lists what was planted). */
export function describeFleetHost(seed: number): Required<Pick<DockerHostOptions, 'layout' | 'bridges' | 'publishedPorts' | 'mistakes'>> & DockerHostOptions & { readonly seed: string };
export function fleetHost(seed: number): string;
export function writeBenchFiles(dir?: string, options?: { log?: (line: string) => void }): BenchFile[];
export interface RestoreTestResult {
  readonly name: string;
  readonly ok: boolean;
  /** Milliseconds of each successful run. */
  readonly times: readonly number[];
  /** stderr of the first failing run. */
  readonly stderr: string;
}
export function restoreTestFiles(
  files: readonly Pick<BenchFile, 'name' | 'path'>[],
  options?: { runs?: number; backend?: 'nft' | 'legacy'; onFile?: (result: RestoreTestResult) => void },
): Promise<RestoreTestResult[]>;
