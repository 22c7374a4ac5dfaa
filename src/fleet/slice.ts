// One slice of a fleet: whole hosts (a v4/v6 pair never splits), built and
// linted together. The same function runs in the main thread (`--jobs 1`, small
// runs) and in each worker, so both give the same findings by construction.

import type { Family, ParseError } from '../../grammar/ast.ts';
import { type LintOptions, type RuleConfig, lintHostsDetailed } from '../engine/engine.ts';
import { type HostInput, buildHosts, pairFiles } from '../engine/host.ts';
import type { Finding, Host, LintRule, LintSettings } from '../engine/types.ts';

/** The files of one host: one file, or the IPv4 and IPv6 halves of a pair. */
export type HostGroup = readonly HostInput[];

/** Inputs → host groups, paired exactly as buildHosts pairs the whole input list. */
export function hostGroups(inputs: readonly HostInput[]): HostGroup[] {
  const byFile = new Map(inputs.map((input) => [input.file, input]));
  return pairFiles(inputs.map((input) => input.file)).map((files) => files.map((file) => byFile.get(file)!));
}

/** Consecutive runs of `size` groups. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** What a slice needs besides its rules: plain data, so it crosses to a worker as it is. */
export interface SliceSettings {
  readonly settings: LintSettings;
  readonly family?: Family;
  readonly ruleConfig: RuleConfig;
  /** Without configDiagnostics: the fleet reports those once (see lintInputs). */
  readonly lint: LintOptions;
}

export interface SliceResult {
  readonly findings: readonly Finding[];
  readonly errors: readonly ParseError[];
  readonly suppressed: number;
  readonly configUsed: readonly (readonly string[])[];
  readonly hosts: number;
  /** Files whose hosts were linted (a host with a parse error in any of its files is not). */
  readonly linted: readonly string[];
  /** Files in the slice (progress counts files). */
  readonly files: number;
}

export function lintSlice(groups: readonly HostGroup[], rules: readonly LintRule[], slice: SliceSettings): SliceResult {
  const hosts: Host[] = [];
  const errors: ParseError[] = [];
  const linted: string[] = [];
  // Each group on its own: a group's pairing is decided over all inputs (hostGroups), not over the slice.
  for (const group of groups) {
    const built = buildHosts(group, slice.settings, slice.family);
    hosts.push(...built.hosts);
    errors.push(...built.errors);
    if (built.filesWithErrors.size === 0) linted.push(...group.map((input) => input.file));
  }
  const outcome = lintHostsDetailed(hosts, rules, slice.settings, slice.ruleConfig, { ...slice.lint, configDiagnostics: false });
  return {
    findings: outcome.findings,
    errors,
    suppressed: outcome.suppressed,
    configUsed: outcome.configUsed,
    hosts: hosts.length,
    linted,
    files: groups.reduce((n, g) => n + g.length, 0),
  };
}
