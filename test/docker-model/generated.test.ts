// The Docker model over the bench generator's hosts, which replay dockerd's
// command order per layout (scripts/gen/docker-host.mjs): an independent
// producer of Docker's rules, with administrator rules and mistakes mixed in.

import { describe, expect, it } from 'vitest';
import { parse, printRule } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import type { DockerLayout } from '../../src/model/docker-types.ts';
import { buildDockerHost, DOCKER_LAYOUTS } from '../../scripts/gen/index.mjs';

const MODEL_LAYOUT: Readonly<Record<string, DockerLayout>> = {
  '27': 'pre-28',
  '28.0.0': '28.0.0',
  '28.0.1': '28.0.1-28.1',
  '28.2.0': '28.2',
  '28.2.2': '28.2',
  '29': '29',
};

const cases = DOCKER_LAYOUTS.flatMap((layout) => [true, false].map((userlandProxy) => [layout, userlandProxy] as const));

describe('Docker model over generated Docker hosts', () => {
  it.each(cases)('layout %s, userland-proxy %s', (layout, userlandProxy) => {
    const text = buildDockerHost({
      layout, userlandProxy, seed: `docker-model/${layout}/${userlandProxy}`,
      bridges: 6, publishedPorts: 40, internalNetworks: 2, iccDisabled: 1,
      loopbackShare: 0.1, hostIpShare: 0.1, adminInput: true, dockerUserRules: true,
      mistakes: ['M1', 'M2', 'M3', 'M8'],
    }).render();
    const result = parse(text, { file: `generated-${layout}.txt` });
    expect(result.errors).toEqual([]);
    const [ruleset, ...rest] = result.rulesets;
    expect(rest).toEqual([]);
    const model = recogniseDocker(ruleset!);

    expect(model.layout).toBe(MODEL_LAYOUT[layout]);
    expect(model.userlandProxy).toBe(userlandProxy ? 'on' : 'off');
    expect(model.bridges).toHaveLength(8);
    expect(model.bridges.filter((b) => b.internal)).toHaveLength(2);
    expect(model.bridges.filter((b) => !b.icc)).toHaveLength(1);
    expect(model.published).toHaveLength(40);
    expect(model.published.every((p) => p.bridge !== '' && p.acceptRule !== undefined)).toBe(true);
    expect(model.dockerUser.firstInForward).toBe(true);
    expect(model.dockerUser.returnRule !== undefined).toBe(!['28.2.2', '29'].includes(layout));

    // Administrator rules live in INPUT, DOCKER-USER and FORWARD only; everything in
    // Docker's own chains and in the nat, raw and mangle tables is Docker's.
    const rules = ruleset!.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
    const admin = rules.filter((r) => !model.dockerRules.has(r));
    expect(admin.filter((r) => !['INPUT', 'DOCKER-USER', 'FORWARD'].includes(r.chain) || r.table !== 'filter').map((r) => printRule(r))).toEqual([]);
    expect(admin.filter((r) => r.chain === 'FORWARD').every((r) => r.target?.kind !== 'chain')).toBe(true);
  });
});
