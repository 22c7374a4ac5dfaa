// Docker hosts (scripts/gen replays each Docker release's rule layout) with
// random administrator rules injected where they change who gets in: at the top
// of DOCKER-USER, INPUT and FORWARD, in nat and raw PREROUTING, in a mangle
// table, and in user chains those rules jump to.

import fc from 'fast-check';
import type { TableName } from '../../grammar/ast.ts';
import { BUILTIN_CHAINS } from '../../grammar/ast.ts';
import { DOCKER_LAYOUTS, dockerHostRuleset, type DockerHostOptions } from '../../scripts/gen/index.mjs';
import { renderRule, ruleSpecArb, type GenOptions, type RuleSpec } from './arbitraries.ts';

export interface Injection {
  readonly table: TableName;
  /** DOCKER-USER, INPUT, FORWARD, PREROUTING, or ADMn (a user chain of ours). */
  readonly chain: string;
  readonly spec: RuleSpec;
}

export interface DockerHostSpec {
  readonly options: DockerHostOptions;
  readonly injections: readonly Injection[];
}

const ADMIN_CHAINS = ['ADM1', 'ADM2', 'ADM3'];

const PLACES: readonly { table: TableName; chain: string; weight: number }[] = [
  { table: 'filter', chain: 'DOCKER-USER', weight: 5 },
  { table: 'filter', chain: 'INPUT', weight: 4 },
  { table: 'filter', chain: 'FORWARD', weight: 1 },
  { table: 'filter', chain: 'ADM1', weight: 2 },
  { table: 'filter', chain: 'ADM2', weight: 1 },
  { table: 'filter', chain: 'ADM3', weight: 1 },
  { table: 'nat', chain: 'PREROUTING', weight: 1 },
  { table: 'raw', chain: 'PREROUTING', weight: 1 },
  { table: 'mangle', chain: 'PREROUTING', weight: 1 },
];

export function dockerHostArb(gen: GenOptions): fc.Arbitrary<DockerHostSpec> {
  const options: fc.Arbitrary<DockerHostOptions> = fc.record({
    seed: fc.nat(1_000_000),
    layout: fc.constantFrom(...DOCKER_LAYOUTS),
    bridges: fc.integer({ min: 1, max: 3 }),
    publishedPorts: fc.integer({ min: 1, max: 5 }),
    userlandProxy: fc.boolean(),
    forwardPolicy: fc.constantFrom('ACCEPT' as const, 'DROP' as const),
    loopbackShare: fc.constantFrom(0, 0.3),
    hostIpShare: fc.constantFrom(0, 0.3),
    adminInput: fc.boolean(),
    dockerUserRules: fc.boolean(),
  });
  const injection = fc.record({
    place: fc.constantFrom(...PLACES.flatMap((p) => Array<typeof p>(p.weight).fill(p))),
    spec: ruleSpecArb({ ...gen, family: 'ipv4' }),
  }).map(({ place, spec }): Injection => ({ table: place.table, chain: place.chain, spec }));
  return fc.record({ options, injections: fc.array(injection, { maxLength: 8 }) });
}

/** The generated host with the injected rules: `-I CHAIN 1` at the top of built-in chains and DOCKER-USER. */
export function renderDockerHost(spec: DockerHostSpec): string {
  const lines = dockerHostRuleset(spec.options).split('\n');
  const byTable = new Map<TableName, string[]>();
  for (const { table, chain, spec: ruleSpec } of spec.injections) {
    const admin = ADMIN_CHAINS.indexOf(chain);
    const builtin = BUILTIN_CHAINS[table].includes(chain);
    const jumpTargets = table !== 'filter' ? [] : admin === -1 ? ADMIN_CHAINS : ADMIN_CHAINS.slice(admin + 1);
    const hook = builtin ? chain : chain === 'DOCKER-USER' ? 'FORWARD' : undefined;
    const rendered = renderRule(ruleSpec, { family: 'ipv4', table, chain, hook, jumpTargets });
    const command = admin === -1 ? `-I ${chain} 1` : `-A ${chain}`;
    const list = byTable.get(table) ?? [];
    list.push(`${command}${rendered.text ? ` ${rendered.text}` : ''}`);
    byTable.set(table, list);
  }
  const out: string[] = [];
  let table: TableName | undefined;
  for (const line of lines) {
    if (line.startsWith('*')) table = line.slice(1) as TableName;
    if (line === 'COMMIT' && table) {
      const injected = byTable.get(table) ?? [];
      if (table === 'filter') {
        out.push(...ADMIN_CHAINS.map((c) => `-N ${c}`));
        // DOCKER-USER exists in every layout; make sure anyway, so -I DOCKER-USER never refers to nothing.
        if (!lines.some((l) => l.startsWith(':DOCKER-USER '))) out.push('-N DOCKER-USER');
      }
      out.push(...injected);
      byTable.delete(table);
    }
    out.push(line);
  }
  for (const [name, injected] of byTable) {
    out.push(`*${name}`, ...BUILTIN_CHAINS[name].map((c) => `:${c} ACCEPT [0:0]`), ...injected, 'COMMIT');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
