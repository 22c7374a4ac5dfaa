// The Docker model for people (`dockfw-lint docker`) and for machines (JSON:
// plain data, rules referenced by line).

import type { Family, Rule } from '../../../grammar/ast.ts';
import type { DockerLayout, DockerModel, GatewayMode, PublishedPort, PublishedProtocol } from '../docker-types.ts';

function endpoint(family: Family, address: string | undefined, port: number): string {
  const a = address ?? (family === 'ipv6' ? '::' : '0.0.0.0');
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

function line(rule: Rule | undefined): string {
  return rule ? `line ${rule.span.line}` : '';
}

function publishedText(family: Family, p: PublishedPort): string {
  const to = endpoint(family, p.container.address, p.container.port);
  const bridge = p.bridge || 'bridge unknown';
  const rules = [p.dnatRule ? `DNAT ${line(p.dnatRule)}` : '', p.acceptRule ? `ACCEPT ${line(p.acceptRule)}` : ''].filter(Boolean).join(', ');
  const where = rules ? `  [${rules}]` : '';
  if (p.via === 'routed') return `${p.proto} ${to} (${bridge}, routed: no NAT, reached at the container address)${where}`;
  const from = endpoint(family, p.hostAddress, p.hostPort);
  const via = p.via === 'ingress' ? ', swarm ingress' : '';
  return `${p.proto} ${from} → ${to} (${bridge}${via})${where}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** Human text for `dockfw-lint docker`. */
export function describeDocker(model: DockerModel): string {
  const out: string[] = [];
  const family = model.family;
  out.push(`Docker layout (${family === 'ipv6' ? 'ip6tables' : 'iptables'}): ${model.description}`);
  // Docker 28+ writes raw PREROUTING drops for nat-mode containers; saying "not protected" before 28 is noise.
  const rawEra = model.layout !== 'pre-28' && model.layout !== 'none';
  if (model.bridges.length > 0) {
    out.push('', 'Bridges:');
    out.push(...table(model.bridges.map((b) => [
      `  ${b.name}`,
      b.subnets.length > 0 ? b.subnets.map((s) => `${s.address}/${s.prefixLength}`).join(', ') : '(subnet not shown)',
      `gateway ${b.gatewayMode}`,
      [
        b.internal ? 'internal' : '',
        `icc ${b.icc ? 'on' : 'off'}`,
        b.rawProtected ? 'raw-protected' : rawEra && b.gatewayMode === 'nat' && model.containers.some((c) => c.bridge === b.name) ? 'not raw-protected' : '',
      ].filter(Boolean).join(', '),
    ])));
  }
  const others = model.referencedBridges.filter((name) => !model.bridges.some((b) => b.name === name));
  if (others.length > 0) out.push('', `Bridges referenced without Docker's rules: ${others.join(', ')}`);
  if (model.containers.length > 0) {
    out.push('', 'Containers:');
    out.push(...table(model.containers.map((c) => [`  ${c.address}`, `(${c.bridge})`])));
  }
  out.push('', 'Published ports:');
  if (model.published.length === 0) out.push('  none');
  for (const p of model.published) out.push(`  ${publishedText(family, p)}`);
  out.push('', `DOCKER-USER: ${dockerUserText(model)}`);
  out.push(`Userland proxy: ${model.userlandProxy}`);
  out.push(`Swarm: ${model.swarm ? 'yes (DOCKER-INGRESS)' : 'no'}`);
  out.push(`Docker rules: ${model.dockerRules.size}${model.dockerChains.size > 0 ? ` in chains ${[...model.dockerChains].sort().join(', ')}` : ''}`);
  return `${out.join('\n')}\n`;
}

function dockerUserText(model: DockerModel): string {
  const u = model.dockerUser;
  if (!u.exists) return 'missing';
  const parts = ['exists'];
  if (u.firstInForward) parts.push(`first in FORWARD (${line(u.jumpRule)})`);
  else if (u.jumpRule) parts.push(`jumped to from FORWARD ${line(u.jumpRule)}, but not first`);
  else parts.push('not jumped to from FORWARD');
  parts.push(u.returnRule ? `trailing RETURN (${line(u.returnRule)}): rules appended after it never run` : 'no RETURN');
  return parts.join(', ');
}

export interface DockerModelJson {
  readonly file: string;
  readonly family: Family;
  readonly layout: DockerLayout;
  readonly layoutCandidates: readonly DockerLayout[];
  readonly description: string;
  readonly bridges: readonly {
    readonly name: string;
    readonly subnets: readonly string[];
    readonly gatewayMode: GatewayMode;
    readonly internal: boolean;
    readonly icc: boolean;
    readonly rawProtected: boolean;
  }[];
  readonly containers: readonly { readonly address: string; readonly bridge: string }[];
  readonly published: readonly {
    readonly proto: PublishedProtocol;
    readonly hostAddress: string | null;
    readonly hostPort: number;
    readonly container: { readonly address: string; readonly port: number };
    readonly bridge: string;
    readonly via: 'dnat' | 'ingress' | 'routed';
    readonly dnatLine: number | null;
    readonly acceptLine: number | null;
  }[];
  readonly dockerUser: {
    readonly exists: boolean;
    readonly firstInForward: boolean;
    readonly jumpLine: number | null;
    readonly returnLine: number | null;
  };
  readonly userlandProxy: 'on' | 'off' | 'unknown';
  readonly swarm: boolean;
  readonly dockerChains: readonly string[];
  readonly dockerRules: readonly { readonly line: number; readonly table: string; readonly chain: string; readonly template: string | null }[];
  readonly referencedBridges: readonly string[];
}

const lineOf = (rule: Rule | undefined): number | null => (rule ? rule.span.line : null);

/** A plain JSON-serialisable copy of the model; rules are referenced by line. */
export function dockerModelJson(model: DockerModel): DockerModelJson {
  const rules = [...model.dockerRules].sort((a, b) => a.span.line - b.span.line);
  return {
    file: rules[0]?.span.file ?? model.dockerUser.jumpRule?.span.file ?? '',
    family: model.family,
    layout: model.layout,
    layoutCandidates: model.layoutCandidates ?? [model.layout],
    description: model.description,
    bridges: model.bridges.map((b) => ({
      name: b.name,
      subnets: b.subnets.map((s) => `${s.address}/${s.prefixLength}`),
      gatewayMode: b.gatewayMode,
      internal: b.internal,
      icc: b.icc,
      rawProtected: b.rawProtected,
    })),
    containers: model.containers.map((c) => ({ address: c.address, bridge: c.bridge })),
    published: model.published.map((p) => ({
      proto: p.proto,
      hostAddress: p.hostAddress ?? null,
      hostPort: p.hostPort,
      container: { address: p.container.address, port: p.container.port },
      bridge: p.bridge,
      via: p.via ?? 'dnat',
      dnatLine: lineOf(p.dnatRule),
      acceptLine: lineOf(p.acceptRule),
    })),
    dockerUser: {
      exists: model.dockerUser.exists,
      firstInForward: model.dockerUser.firstInForward,
      jumpLine: lineOf(model.dockerUser.jumpRule),
      returnLine: lineOf(model.dockerUser.returnRule),
    },
    userlandProxy: model.userlandProxy,
    swarm: model.swarm,
    dockerChains: [...model.dockerChains].sort(),
    dockerRules: rules.map((r) => ({ line: r.span.line, table: r.table, chain: r.chain, template: model.dockerRuleTemplates?.get(r) ?? null })),
    referencedBridges: [...model.referencedBridges],
  };
}
