// The Docker model over dumps nobody wrote for this project: Moby's generated
// iptables docs (one directory per layout epoch), Moby's iptabler unit-test
// goldens (29.x, every option combination, parameters in the file names) and the
// reconstructed pre-28 dumps; then over the project's own corpus/. The shared
// files live outside the repository, so that part runs only where they exist.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, type Rule, type Ruleset } from '../../grammar/index.ts';
import { describeDocker, dockerModelJson, recogniseDocker } from '../../src/model/docker.ts';
import type { DockerLayout, DockerModel } from '../../src/model/docker-types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const external = resolve(root, '../shared/corpus-external');
const haveExternal = existsSync(external);

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function dumps(dir: string): string[] {
  return walk(dir).filter((f) => /\.(txt|golden)$/.test(f));
}

interface Analysed {
  readonly ruleset: Ruleset;
  readonly model: DockerModel;
}

function analyse(file: string): Analysed[] {
  const result = parse(readFileSync(file, 'utf8'), { file });
  expect(result.errors, file).toEqual([]);
  return result.rulesets.map((ruleset) => {
    const model = recogniseDocker(ruleset);
    // The views must not throw either, and the JSON must survive a round trip.
    expect(describeDocker(model)).toContain('Docker layout');
    const json = dockerModelJson(model);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    return { ruleset, model };
  });
}

function rulesOf(ruleset: Ruleset): Rule[] {
  return ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
}

function notDocker({ ruleset, model }: Analysed): string[] {
  return rulesOf(ruleset).filter((r) => !model.dockerRules.has(r)).map((r) => `${r.span.line}: -A ${r.chain} ${r.text}`);
}

/** The rule lines of a dump, comments dropped: equal for two epochs means no tool can tell them apart. */
function ruleLines(file: string): string {
  return readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

const EPOCHS: Readonly<Record<string, DockerLayout>> = {
  '.': '29',
  'v28.2.2-to-v28.5.2': '28.2',
  'v28.2.0-to-v28.2.1': '28.2',
  'v28.0.1-to-v28.1.1': '28.0.1-28.1',
  'v28.0.0': '28.0.0',
  'pre-v28-master-2024-10-15': 'pre-28',
};

describe.skipIf(!haveExternal)('Docker model over Moby\'s generated iptables docs', () => {
  const dir = join(external, 'moby-iptablesdoc');
  const files = haveExternal ? dumps(dir) : [];
  const inherentlyAmbiguous: string[] = [];

  it.each(files.map((f) => [relative(dir, f), f]))('%s', (_name, file) => {
    const epoch = relative(dir, dirname(file)) || '.';
    const expected = EPOCHS[epoch]!;
    const [analysed, ...rest] = analyse(file);
    expect(rest).toEqual([]);
    const { model } = analysed!;
    // Moby's docs contain no administrator rules: everything is Docker's.
    expect(notDocker(analysed!)).toEqual([]);
    if (model.layout !== expected) {
      // Allowed only when the same scenario of the reported epoch has the very same rules.
      expect(model.layoutCandidates).toContain(expected);
      const twin = Object.entries(EPOCHS).find(([other, layout]) => layout === model.layout && other !== epoch
        && existsSync(join(dir, other, basename(file))) && ruleLines(join(dir, other, basename(file))) === ruleLines(file));
      expect(twin, `${epoch}/${basename(file)} reported as ${model.layout}`).toBeDefined();
      inherentlyAmbiguous.push(`${epoch}/${basename(file)}`);
    }
    const scenario = basename(file, '.txt');
    const published = model.published.map((p) => `${p.via} ${p.proto} ${p.hostAddress ?? '*'}:${p.hostPort} ${p.container.address}:${p.container.port} ${p.bridge}`);
    if (scenario === 'swarm-portmap') {
      expect(published).toEqual(['ingress tcp *:8080 172.18.0.2:8080 docker_gwbridge']);
      expect(model.swarm).toBe(true);
    } else if (scenario === 'usernet-portmap-routed') {
      expect(published).toEqual(['routed tcp 192.0.2.2:80 192.0.2.2:80 bridge1']);
      expect(model.bridges.find((b) => b.name === 'bridge1')?.gatewayMode).toBe('routed');
    } else if (scenario === 'usernet-portmap-lo') {
      expect(published).toEqual(['dnat tcp 127.0.0.1:8080 192.0.2.2:80 bridge1']);
    } else if (scenario.startsWith('usernet-portmap')) {
      expect(published).toEqual(['dnat tcp *:8080 192.0.2.2:80 bridge1']);
    } else {
      expect(published).toEqual([]);
    }
    expect(model.userlandProxy).toBe(scenario === 'usernet-portmap-noproxy' ? 'off' : 'on');
    if (scenario === 'usernet-portmap-noicc') expect(model.bridges.find((b) => b.name === 'bridge1')?.icc).toBe(false);
    if (scenario === 'usernet-portmap-natunprot') expect(model.bridges.find((b) => b.name === 'bridge1')?.gatewayMode).toBe('nat-unprotected');
    if (scenario === 'usernet-internal') {
      // The pre-28 doc had a single internal network, bridge1.
      expect(model.bridges.filter((b) => b.internal).map((b) => [b.name, b.icc]))
        .toEqual(expected === 'pre-28' ? [['bridge1', true]] : [['bridgeICC', true], ['bridgeNoICC', false]]);
    }
    expect(model.dockerUser.exists && model.dockerUser.firstInForward).toBe(true);
  });

  it('only files identical to another epoch\'s are reported with that epoch', () => {
    // 28.0.1–28.1.1 and 28.2.0–28.2.1 differ only in raw rules, which 7 of the 9 docs do not show.
    expect(inherentlyAmbiguous.every((f) => f.startsWith('v28.2.0-to-v28.2.1/'))).toBe(true);
  });
});

/** `hairpin=false,internal=false,icc=true,...__iptables.golden` → its parameters. */
function goldenParameters(file: string): Record<string, string> {
  const name = basename(file, '.golden').split('__')[0]!;
  return Object.fromEntries(name.split(',').map((p) => p.split('=') as [string, string]));
}

describe.skipIf(!haveExternal)('Docker model over Moby\'s iptabler goldens (29.x)', () => {
  const dir = join(external, 'moby-iptabler-golden');
  const files = haveExternal ? dumps(dir) : [];

  it('reads all of them', () => {
    expect(files.length).toBeGreaterThan(250);
  });

  it.each(files.map((f) => [basename(f), f]))('%s', (name, file) => {
    const [analysed] = analyse(file);
    const { model } = analysed!;
    const params = goldenParameters(file);
    expect(notDocker(analysed!)).toEqual([]);
    if (name.startsWith('no__')) {
      expect(model.layout).toBe('none');
      return;
    }
    expect(model.layout).toBe('29');
    // hairpin = userland-proxy disabled
    expect(model.userlandProxy).toBe(params['hairpin'] === 'true' ? 'off' : 'on');
    if ('cleaned' in params) {
      expect(model.bridges).toEqual([]);
      return;
    }
    const [bridge, ...others] = model.bridges;
    expect(others).toEqual([]);
    expect(bridge!.name).toBe('br-dummy');
    const internal = params['internal'] === 'true';
    expect(bridge!.internal).toBe(internal);
    expect(bridge!.icc).toBe(params['icc'] === 'true');
    expect(bridge!.gatewayMode).toBe(internal ? 'isolated' : params['gwm']);
    expect(bridge!.rawProtected).toBe(!internal && params['gwm'] === 'nat');
    const masqueraded = !internal && params['masq'] === 'true' && params['gwm'] !== 'routed';
    expect(bridge!.subnets.length > 0).toBe(internal || masqueraded);
    if (internal) {
      expect(model.published).toEqual([]);
    } else {
      const v6 = model.family === 'ipv6';
      const loopback = v6 ? '::1' : '127.0.0.1';
      expect(model.published.map((p) => ({ proto: p.proto, hostAddress: p.hostAddress, hostPort: p.hostPort, container: p.container, bridge: p.bridge }))).toEqual([{
        proto: 'tcp',
        hostAddress: params['bindlh'] === 'true' ? loopback : undefined,
        hostPort: 8080,
        container: { address: v6 ? 'fd49:efd7:54aa::1' : '192.168.0.2', port: 80 },
        bridge: 'br-dummy',
      }]);
    }
  });
});

describe.skipIf(!haveExternal)('Docker model over the reconstructed pre-28 dumps', () => {
  const dir = join(external, 'reconstructed-pre28');
  const files = haveExternal ? dumps(dir) : [];

  it.each(files.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const [analysed] = analyse(file);
    expect(analysed!.model.layout).toBe('pre-28');
    expect(notDocker(analysed!)).toEqual([]);
  });

  it('multi-network-v4: every network, port and flag', () => {
    const [{ model }] = analyse(join(dir, 'multi-network-v4.txt')) as [Analysed];
    expect(model.bridges.map((b) => `${b.name} ${b.subnets.map((s) => `${s.address}/${s.prefixLength}`).join()} ${b.gatewayMode} icc=${b.icc}`)).toEqual([
      'br-0123456789ab 172.18.0.0/16 nat icc=true',
      'br-internal0000 172.19.0.0/16 isolated icc=true',
      'br-noicc000000 172.20.0.0/16 nat icc=false',
      'docker0 172.17.0.0/16 nat icc=true',
    ]);
    expect(model.published.map((p) => `${p.proto} ${p.hostAddress ?? '*'}:${p.hostPort} → ${p.container.address}:${p.container.port} ${p.bridge} accept=${p.acceptRule !== undefined}`)).toEqual([
      'tcp *:8080 → 172.17.0.2:80 docker0 accept=true',
      'tcp 127.0.0.1:8443 → 172.17.0.2:443 docker0 accept=true',
      'udp *:5353 → 172.17.0.2:53 docker0 accept=true',
      'tcp *:9000 → 172.18.0.2:9000 br-0123456789ab accept=true',
      'tcp *:2222 → 172.20.0.2:22 br-noicc000000 accept=true',
    ]);
    expect(model.dockerUser.returnRule).toBeDefined();
  });
});

// The project's own corpus (corpus/README.md holds the labels these follow).
const corpus = join(root, 'corpus');

const LAYOUT_BY_NAME: readonly [RegExp, DockerLayout][] = [
  [/^docker-27-iptables-false|^docker-29-nftables-backend/, 'none'],
  [/^docker-(20\.10|2[3-7])-/, 'pre-28'],
  [/^docker-28\.0\.0-/, '28.0.0'],
  [/^docker-28\.1-/, '28.0.1-28.1'],
  [/^docker-28\.[2-5]/, '28.2'],
  [/^docker-29-/, '29'],
];

describe.skipIf(!existsSync(corpus))('Docker model over corpus/', () => {
  const files = existsSync(corpus) ? dumps(corpus).filter((f) => !f.includes(`${join('corpus', 'invalid')}`)) : [];

  it.each(files.map((f) => [relative(corpus, f), f]))('%s', (name, file) => {
    const analysed = analyse(file);
    const layout = LAYOUT_BY_NAME.find(([pattern]) => pattern.test(basename(name)))?.[1];
    if (name.startsWith('docker-layouts/') && layout) {
      for (const { model } of analysed) expect(model.layout).toBe(layout);
    }
  });

  const adminLines: Readonly<Record<string, readonly number[]>> = {
    'mistakes/m04-docker-user-after-return.txt': [43, 44, 45],
    'mistakes/m09-forward-rules-after-docker.txt': [34, 35],
    'mistakes/m09b-forward-rules-after-docker-28.txt': [28],
    'mistakes/m11-docker-chain-edited.txt': [34],
  };
  it.each(Object.entries(adminLines))('%s: the rules the README calls the administrator\'s are not Docker\'s', (name, lines) => {
    const file = join(corpus, name);
    if (!existsSync(file)) return;
    const [analysed] = analyse(file);
    const byLine = new Map(rulesOf(analysed!.ruleset).map((r) => [r.span.line, r]));
    for (const line of lines) {
      const rule = byLine.get(line);
      expect(rule, `${name}:${line}`).toBeDefined();
      expect(analysed!.model.dockerRules.has(rule!), `${name}:${line}`).toBe(false);
    }
  });
});
