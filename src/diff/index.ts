// `dockfw-lint diff`: what became reachable, what no longer is, and which rules
// made the difference, between two snapshots of the same hosts. A pure
// function of the two sets of hosts.

import type { Family } from '../../grammar/ast.ts';
import { familyMarker } from '../engine/host.ts';
import type { Host } from '../engine/types.ts';
import { compareCodeUnits } from '../model/order.ts';
import { diffFamily } from './compare.ts';
import { isRulesetSimulator } from './reachability.ts';
import type { Change, DiffResult, HostDiff, RuleEffect } from './types.ts';
import { WIDENING } from './types.ts';

export type { Change, DiffResult, HostDiff, RuleEffect } from './types.ts';

/** A host of one snapshot, with its files relative to that snapshot's root (for pairing by name). */
export interface SnapshotHost {
  readonly host: Host;
  readonly relativeFiles: readonly string[];
}

/** A file's name without its family marker: `web.v4.txt` and `web.v6.txt` share it. */
export function fileKey(relativeFile: string): string {
  return familyMarker(relativeFile)?.key ?? relativeFile;
}

/** The name two snapshots share for a host: its file name relative to the root, without the family marker. */
export function hostKey(entry: SnapshotHost): string {
  const extra = /#\d+$/.exec(entry.host.name)?.[0] ?? '';
  const keys = entry.relativeFiles.map(fileKey);
  return [...new Set(keys)].sort().join('\u0001') + extra;
}

export interface DiffOptions {
  readonly externalInterfaces?: readonly string[];
}

function simulatorOf(host: Host | undefined, family: Family) {
  const view = family === 'ipv4' ? host?.ipv4 : host?.ipv6;
  if (!view) return undefined;
  if (!isRulesetSimulator(view.simulator)) throw new Error('diff needs the built-in simulator');
  return view.simulator;
}

function diffHost(name: string, oldEntry: SnapshotHost | undefined, newEntry: SnapshotHost | undefined, options: DiffOptions): HostDiff {
  const changes: Change[] = [];
  const ruleEffects: RuleEffect[] = [];
  const notes: string[] = [];
  if (!oldEntry) notes.push('a new host: everything it lets in is new');
  if (!newEntry) notes.push('gone from the new snapshot: everything it let in is no longer reachable');
  for (const family of ['ipv4', 'ipv6'] as const) {
    const oldSim = simulatorOf(oldEntry?.host, family);
    const newSim = simulatorOf(newEntry?.host, family);
    if (!oldSim && !newSim) continue;
    const label = family === 'ipv4' ? 'iptables-save' : 'ip6tables-save';
    if (oldEntry && newEntry && !oldSim) notes.push(`no ${label} in the old snapshot: its ${family} side is compared with nothing reachable`);
    if (oldEntry && newEntry && !newSim) notes.push(`no ${label} in the new snapshot: its ${family} side is compared with nothing reachable`);
    const result = diffFamily(family, oldSim, newSim, options.externalInterfaces ?? []);
    changes.push(...result.changes);
    ruleEffects.push(...result.ruleEffects);
  }
  return {
    name,
    oldFiles: oldEntry?.host.files ?? [],
    newFiles: newEntry?.host.files ?? [],
    changes, ruleEffects, notes,
  };
}

/** Pairs hosts by name (`hostKey`) and diffs each pair; a host on one side only is compared with nothing. */
export function diffSnapshots(oldHosts: readonly SnapshotHost[], newHosts: readonly SnapshotHost[], options: DiffOptions = {}): DiffResult {
  const byKey = new Map<string, { old?: SnapshotHost; new?: SnapshotHost }>();
  for (const h of oldHosts) byKey.set(hostKey(h), { ...byKey.get(hostKey(h)), old: h });
  for (const h of newHosts) byKey.set(hostKey(h), { ...byKey.get(hostKey(h)), new: h });
  const hosts = [...byKey.entries()]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([, pair]) => diffHost((pair.new ?? pair.old)!.relativeFiles.join(' + '), pair.old, pair.new, options));
  return summarise(hosts);
}

/** Diffs exactly two hosts (two files, whatever their names). */
export function diffPair(oldHost: Host, newHost: Host, options: DiffOptions = {}): DiffResult {
  const name = oldHost.name === newHost.name ? newHost.name : `${oldHost.name} → ${newHost.name}`;
  return summarise([diffHost(name, { host: oldHost, relativeFiles: oldHost.files }, { host: newHost, relativeFiles: newHost.files }, options)]);
}

function summarise(hosts: readonly HostDiff[]): DiffResult {
  const all = hosts.flatMap((h) => h.changes);
  const widening = all.filter((c) => WIDENING.has(c.kind)).length;
  return { hosts, widened: widening > 0, summary: { hostsCompared: hosts.length, widening, narrowing: all.length - widening } };
}
