// Inputs → hosts. Each input is parsed; a stream may hold an iptables-save and
// an ip6tables-save (two rulesets), and two files in one directory whose names
// differ only by the family marker (iptables/ip6tables, v4/v6, ipv4/ipv6) are
// the two halves of one host. Every ruleset then gets its Docker model and a
// simulator, which is all a rule needs.

import type { Family, ParseError, Ruleset } from '../../grammar/ast.ts';
import { parse } from '../../grammar/index.ts';
import type { DockerModel } from '../model/docker-types.ts';
import type { HostOptions } from '../model/host.ts';
import { recogniseDocker } from '../model/docker.ts';
import { createSimulator } from '../sim/index.ts';
import type { Host, LintSettings, RulesetView, Simulator } from './types.ts';

export interface HostInput {
  /** The name spans carry: a path relative to the working directory, or `<stdin>`. */
  readonly file: string;
  readonly text: string;
}

/** The two analyses a view needs; injectable so engine tests can use fakes. */
export interface Analysers {
  recogniseDocker(ruleset: Ruleset): DockerModel;
  createSimulator(ruleset: Ruleset, docker: DockerModel, hostOptions: HostOptions): Simulator;
}

export const defaultAnalysers: Analysers = { recogniseDocker, createSimulator };

export interface BuiltHosts {
  readonly hosts: readonly Host[];
  readonly errors: readonly ParseError[];
  /** Files whose text did not parse cleanly. Their hosts are left out: iptables-restore would refuse them whole. */
  readonly filesWithErrors: ReadonlySet<string>;
}

// A family marker is a whole word of the base name: `iptables-save.txt`,
// `web-01.v6.txt`, `rules.v4`, `edge.ipv6`.
const MARKER = /(^|[^A-Za-z0-9])(ip6?tables|v[46]|ipv[46])(?=[^A-Za-z0-9]|$)/gi;

function markerFamily(marker: string): Family {
  return /6/.test(marker) ? 'ipv6' : 'ipv4';
}

/**
 * `dir/web-01.v6.txt` → { key: `dir/web-01.\u0000.txt`, family: ipv6 }. When a name holds
 * several family words (`m06-ipv6-open.v4.txt`), the last one is the marker: it is the
 * one that differs between the two files of a pair.
 */
export function familyMarker(file: string): { readonly key: string; readonly family: Family } | undefined {
  const slash = file.lastIndexOf('/');
  const dir = file.slice(0, slash + 1);
  const base = file.slice(slash + 1);
  const found = [...base.matchAll(MARKER)];
  if (found.length === 0) return undefined;
  const m = found[found.length - 1]!;
  const start = m.index! + m[1]!.length;
  const marker = m[2]!;
  const kind = marker.toLowerCase().replace('6', '').replace('4', '');
  const key = `${dir}${base.slice(0, start)}\u0000${kind}\u0000${base.slice(start + marker.length)}`;
  return { key, family: markerFamily(marker) };
}

/** Groups file names into hosts: marker pairs (one IPv4, one IPv6 name) share one; IPv4 first. */
export function pairFiles(files: readonly string[]): string[][] {
  const byKey = new Map<string, { file: string; family: Family }[]>();
  for (const file of files) {
    const marker = familyMarker(file);
    if (!marker) continue;
    const list = byKey.get(marker.key) ?? [];
    list.push({ file, family: marker.family });
    byKey.set(marker.key, list);
  }
  const partner = new Map<string, string[]>();
  for (const list of byKey.values()) {
    const v4 = list.filter((f) => f.family === 'ipv4');
    const v6 = list.filter((f) => f.family === 'ipv6');
    if (v4.length !== 1 || v6.length !== 1) continue;
    const pair = [v4[0]!.file, v6[0]!.file];
    partner.set(pair[0]!, pair);
    partner.set(pair[1]!, pair);
  }
  const groups: string[][] = [];
  const done = new Set<string>();
  for (const file of files) {
    if (done.has(file)) continue;
    const group = partner.get(file) ?? [file];
    for (const f of group) done.add(f);
    groups.push(group);
  }
  return groups;
}

function isEmpty(ruleset: Ruleset): boolean {
  return ruleset.tables.length === 0;
}

function view(ruleset: Ruleset, settings: HostSettings, analysers: Analysers): RulesetView {
  const docker = analysers.recogniseDocker(ruleset);
  const hostOptions: HostOptions = {
    localAddresses: settings.localAddresses,
    externalInterfaces: settings.externalInterfaces,
  };
  return { ruleset, docker, simulator: analysers.createSimulator(ruleset, docker, hostOptions) };
}

function makeHost(name: string, files: readonly string[], rulesets: readonly Ruleset[], settings: HostSettings, analysers: Analysers): Host {
  const v4 = rulesets.find((r) => r.family === 'ipv4');
  const v6 = rulesets.find((r) => r.family === 'ipv6');
  const ipv4 = v4 ? view(v4, settings, analysers) : undefined;
  const ipv6 = v6 ? view(v6, settings, analysers) : undefined;
  const views = [ipv4, ipv6].filter((v): v is RulesetView => v !== undefined);
  return { name, files, ipv4, ipv6, views };
}

export type HostSettings = Pick<LintSettings, 'externalInterfaces' | 'localAddresses'>;

/**
 * Parses every input and assembles hosts. Inputs keep their order; a file's
 * rulesets beyond one per family (e.g. two iptables-save dumps concatenated)
 * become hosts of their own, named `file#2`, `file#3` … A host any of whose
 * files has parse errors is left out (its errors are returned).
 */
export function buildHosts(
  inputs: readonly HostInput[],
  settings: HostSettings,
  familyOption?: Family,
  analysers: Analysers = defaultAnalysers,
): BuiltHosts {
  const parsed = new Map<string, Ruleset[]>();
  const errors: ParseError[] = [];
  const filesWithErrors = new Set<string>();
  for (const input of inputs) {
    const result = parse(input.text, { file: input.file, family: familyOption });
    for (const error of result.errors) errors.push(error);
    if (result.errors.length > 0) filesWithErrors.add(input.file);
    parsed.set(input.file, [...result.rulesets]);
  }
  const hosts: Host[] = [];
  for (const files of pairFiles(inputs.map((i) => i.file))) {
    if (files.some((f) => filesWithErrors.has(f))) continue;
    const rulesets = files.flatMap((f) => parsed.get(f) ?? []);
    // An empty file parses as one empty ruleset; when it is the IPv6 half of a
    // pair its family comes from the marker ("present but empty").
    const placed: Ruleset[] = [];
    const extra: Ruleset[] = [];
    for (const ruleset of rulesets) {
      let r = ruleset;
      if (isEmpty(r) && files.length === 2) {
        const marker = familyMarker(r.file);
        if (marker && marker.family !== r.family) r = { ...r, family: marker.family, familySource: 'file-name' };
      }
      if (placed.some((p) => p.family === r.family)) extra.push(r);
      else placed.push(r);
    }
    const name = files.join(' + ');
    hosts.push(makeHost(name, files, placed, settings, analysers));
    extra.forEach((r, i) => hosts.push(makeHost(`${r.file}#${i + 2}`, [r.file], [r], settings, analysers)));
  }
  return { hosts, errors, filesWithErrors };
}
