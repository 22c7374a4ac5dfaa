// The rules Docker writes, as templates over a rule's canonical text.
//
// Every template below was read from the bridge driver, the port mapper, the
// swarm ingress code and the DOCKER-USER arrangement of the Docker release
// range it is tagged with (see docs/docker-layouts.md in the shared notes).
// A template matches `rule.text`, the rule as grammar/printer.ts prints it
// from the AST (fields in iptables-save order, implied `-m tcp` made explicit),
// so spacing and option order are already normalised. Placeholders capture the
// variable parts; a placeholder used twice must capture the same text twice
// (`-i {br} -o {br}` is one bridge); `[...]` marks an optional part.

import type { TableName } from '../../../grammar/ast.ts';
import type { DockerLayout } from '../docker-types.ts';

export type Placeholder =
  | 'br' | 'net' | 'c' | 'parent' | 'hip' | 'proto' | 'icmp' | 'p' | 'hp' | 'to' | 'snat' | 'mark' | 'if' | 'set' | 'ct';

const PLACEHOLDERS: Readonly<Record<Placeholder, string>> = {
  /** An interface name, never a `+` wildcard. */
  br: String.raw`[\w.@:-]+`,
  if: String.raw`[\w.@:-]+`,
  /** A network in prefix form. */
  net: String.raw`[0-9a-fA-F.:]+/\d{1,3}`,
  /** Single addresses, as iptables-save prints a host match. */
  c: String.raw`[0-9a-fA-F.:]+/(?:32|128)`,
  parent: String.raw`[0-9a-fA-F.:]+/(?:32|128)`,
  hip: String.raw`[0-9a-fA-F.:]+/(?:32|128)`,
  proto: 'tcp|udp|sctp',
  icmp: 'icmp|ipv6-icmp',
  /** Docker expands port ranges into one binding per port: single ports only. */
  p: String.raw`\d{1,5}`,
  hp: String.raw`\d{1,5}`,
  /** `172.17.0.2:80` or `[fd00::2]:80`; the printer quotes the bracketed form. */
  to: String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|"?\[[0-9a-fA-F:.]+\]):\d{1,5}"?`,
  snat: String.raw`[0-9a-fA-F.:]+`,
  mark: String.raw`0x[0-9a-fA-F]+(?:/0x[0-9a-fA-F]+)?|\d+(?:/\d+)?`,
  set: 'docker-ext-bridges-v[46]',
  ct: 'RELATED,ESTABLISHED|ESTABLISHED,RELATED',
};

export type Captures = Readonly<Partial<Record<Placeholder, string>>>;

export const ALL_LAYOUTS: readonly DockerLayout[] = ['pre-28', '28.0.0', '28.0.1-28.1', '28.2', '29'];
const SINCE_28: readonly DockerLayout[] = ['28.0.0', '28.0.1-28.1', '28.2', '29'];
const WITH_ISOLATION: readonly DockerLayout[] = ['pre-28', '28.0.0', '28.0.1-28.1', '28.2'];
const DOCKER_FORWARD: readonly DockerLayout[] = ['28.0.1-28.1', '28.2', '29'];
const LEGACY_FORWARD: readonly DockerLayout[] = ['pre-28', '28.0.0'];
const ISOLATION_28: readonly DockerLayout[] = ['28.0.0', '28.0.1-28.1', '28.2'];
const PER_PORT_RAW: readonly DockerLayout[] = ['28.0.0', '28.0.1-28.1'];
const PER_CONTAINER_RAW: readonly DockerLayout[] = ['28.2', '29'];

/**
 * What a matched rule tells about the bridge it names, used to decide which
 * interface names are Docker bridges: `structure` rules exist for every bridge
 * of their kind, `port` rules only for published ports or links.
 */
export type Evidence = 'structure' | 'port' | 'none';

export interface Template {
  /** Stable kebab-case id, shown in JSON output (`nat-dnat`, `filter-port-accept`). */
  readonly id: string;
  readonly table: TableName;
  readonly chain: string;
  readonly layouts: readonly DockerLayout[];
  readonly evidence: Evidence;
  readonly pattern: RegExp;
  /** What the rule does, for humans. */
  readonly summary: string;
}

function compile(source: string): RegExp {
  const seen = new Set<string>();
  let out = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '{') {
      const end = source.indexOf('}', i);
      const name = source.slice(i + 1, end) as Placeholder;
      const body = PLACEHOLDERS[name];
      if (body === undefined) throw new Error(`unknown placeholder {${name}} in Docker template "${source}"`);
      out += seen.has(name) ? String.raw`\k<${name}>` : `(?<${name}>${body})`;
      seen.add(name);
      i = end + 1;
    } else if (ch === '[') {
      out += '(?:';
      i++;
    } else if (ch === ']') {
      out += ')?';
      i++;
    } else {
      out += ch.replace(/[.*+?^$()|\\/]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${out}$`);
}

function t(
  table: TableName, chain: string, id: string, layouts: readonly DockerLayout[], evidence: Evidence, source: string, summary: string,
): Template {
  return { id, table, chain, layouts, evidence, pattern: compile(source), summary };
}

const CT = '-m conntrack --ctstate {ct}';

export const TEMPLATES: readonly Template[] = [
  // filter FORWARD
  t('filter', 'FORWARD', 'forward-docker-user-jump', [...ALL_LAYOUTS, 'none'], 'none', '-j DOCKER-USER', 'jump to DOCKER-USER (kept first)'),
  t('filter', 'FORWARD', 'forward-isolation-jump', LEGACY_FORWARD, 'none', '-j DOCKER-ISOLATION-STAGE-1', 'jump to network isolation'),
  t('filter', 'FORWARD', 'forward-ingress-jump', LEGACY_FORWARD, 'none', '-j DOCKER-INGRESS', 'jump to swarm ingress'),
  t('filter', 'FORWARD', 'forward-docker-forward-jump', DOCKER_FORWARD, 'none', '-j DOCKER-FORWARD', 'jump to DOCKER-FORWARD'),
  t('filter', 'FORWARD', 'forward-ct-accept', ['pre-28'], 'structure', `-o {br} ${CT} -j ACCEPT`, 'accept replies to the bridge'),
  t('filter', 'FORWARD', 'forward-docker-jump', ['pre-28'], 'structure', '-o {br} -j DOCKER', 'traffic to the bridge enters DOCKER'),
  t('filter', 'FORWARD', 'forward-outgoing-accept', LEGACY_FORWARD, 'structure', '-i {br} ! -o {br} -j ACCEPT', 'accept traffic leaving the bridge'),
  t('filter', 'FORWARD', 'forward-icc-accept', LEGACY_FORWARD, 'structure', '-i {br} -o {br} -j ACCEPT', 'inter-container traffic allowed (icc)'),
  t('filter', 'FORWARD', 'forward-icc-drop', LEGACY_FORWARD, 'structure', '-i {br} -o {br} -j DROP', 'inter-container traffic dropped (icc=false)'),
  t('filter', 'FORWARD', 'forward-bridge-accept', ['28.0.0'], 'structure', '-i {br} -j ACCEPT', 'accept traffic from the bridge'),
  t('filter', 'FORWARD', 'forward-ipset-ct-accept', ['28.0.0'], 'none', `-m set --match-set {set} dst ${CT} -j ACCEPT`, 'accept replies to any Docker bridge (ipset)'),
  t('filter', 'FORWARD', 'forward-ipset-docker-jump', ['28.0.0'], 'none', '-m set --match-set {set} dst -j DOCKER', 'traffic to any Docker bridge enters DOCKER (ipset)'),

  // filter DOCKER-FORWARD, DOCKER-CT, DOCKER-BRIDGE, DOCKER-INTERNAL (28.0.1+)
  t('filter', 'DOCKER-FORWARD', 'docker-forward-ingress-jump', DOCKER_FORWARD, 'none', '-j DOCKER-INGRESS', 'jump to swarm ingress'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-ct-jump', DOCKER_FORWARD, 'none', '-j DOCKER-CT', 'jump to DOCKER-CT'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-isolation-jump', ['28.0.1-28.1', '28.2'], 'none', '-j DOCKER-ISOLATION-STAGE-1', 'jump to network isolation'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-internal-jump', ['29'], 'none', '-j DOCKER-INTERNAL', 'jump to DOCKER-INTERNAL'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-bridge-jump', DOCKER_FORWARD, 'none', '-j DOCKER-BRIDGE', 'jump to DOCKER-BRIDGE'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-fwmark-accept', ['29'], 'none', '-m mark --mark {mark} -j ACCEPT', 'accept packets carrying bridge-accept-fwmark'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-bridge-accept', DOCKER_FORWARD, 'structure', '-i {br} -j ACCEPT', 'accept traffic from the bridge (icc on)'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-icc-accept', DOCKER_FORWARD, 'structure', '-i {br} -o {br} -j ACCEPT', 'inter-container traffic allowed (internal network)'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-icc-drop', DOCKER_FORWARD, 'structure', '-i {br} -o {br} -j DROP', 'inter-container traffic dropped (icc=false)'),
  t('filter', 'DOCKER-FORWARD', 'docker-forward-outgoing-accept', DOCKER_FORWARD, 'structure', '-i {br} ! -o {br} -j ACCEPT', 'accept traffic leaving the bridge'),
  t('filter', 'DOCKER-CT', 'docker-ct-accept', DOCKER_FORWARD, 'structure', `-o {br} ${CT} -j ACCEPT`, 'accept replies to the bridge'),
  t('filter', 'DOCKER-BRIDGE', 'docker-bridge-jump', DOCKER_FORWARD, 'structure', '-o {br} -j DOCKER', 'traffic to the bridge enters DOCKER'),
  t('filter', 'DOCKER-INTERNAL', 'internal-drop-in', ['29'], 'structure', '! -s {net} -o {br} -j DROP', 'internal network: drop traffic from outside its subnet'),
  t('filter', 'DOCKER-INTERNAL', 'internal-drop-out', ['29'], 'structure', '! -d {net} -i {br} -j DROP', 'internal network: drop traffic leaving its subnet'),
  t('filter', 'DOCKER-INTERNAL', 'internal-drop-in', ['29'], 'structure', '! -s {net} ! -i {br} -o {br} -j DROP', 'internal network: drop traffic from outside its subnet'),
  t('filter', 'DOCKER-INTERNAL', 'internal-drop-out', ['29'], 'structure', '! -d {net} -i {br} ! -o {br} -j DROP', 'internal network: drop traffic leaving its subnet'),

  // filter DOCKER-ISOLATION-STAGE-1/2 (≤ 28.x)
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'isolation-stage-1', WITH_ISOLATION, 'structure', '-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2', 'traffic leaving the bridge enters isolation stage 2'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'internal-drop-in', WITH_ISOLATION, 'structure', '! -s {net} -o {br} -j DROP', 'internal network: drop traffic from outside its subnet'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'internal-drop-out', WITH_ISOLATION, 'structure', '! -d {net} -i {br} -j DROP', 'internal network: drop traffic leaving its subnet'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'internal-drop-in', WITH_ISOLATION, 'structure', '! -s {net} ! -i {br} -o {br} -j DROP', 'internal network: drop traffic from outside its subnet'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'internal-drop-out', WITH_ISOLATION, 'structure', '! -d {net} -i {br} ! -o {br} -j DROP', 'internal network: drop traffic leaving its subnet'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'isolation-routed-ct-accept', ISOLATION_28, 'structure', `-i {br} ${CT} -j ACCEPT`, 'routed network: accept replies from the bridge'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'isolation-routed-return', ISOLATION_28, 'structure', '-o {br} -j RETURN', 'routed network: skip isolation for traffic to the bridge'),
  t('filter', 'DOCKER-ISOLATION-STAGE-1', 'isolation-stage-1-return', ['pre-28'], 'none', '-j RETURN', 'end of isolation stage 1'),
  t('filter', 'DOCKER-ISOLATION-STAGE-2', 'isolation-stage-2-drop', WITH_ISOLATION, 'structure', '-o {br} -j DROP', 'drop traffic from another network to the bridge'),
  t('filter', 'DOCKER-ISOLATION-STAGE-2', 'isolation-stage-2-return', ['pre-28'], 'none', '-j RETURN', 'end of isolation stage 2'),

  // filter DOCKER
  t('filter', 'DOCKER', 'filter-port-accept', ALL_LAYOUTS, 'port', '-d {c} ! -i {br} -o {br} -p {proto} -m {proto} --dport {p} -j ACCEPT', 'accept a published container port'),
  t('filter', 'DOCKER', 'filter-link-accept', ALL_LAYOUTS, 'port', '-s {parent} -d {c} -i {br} -o {br} -p {proto} -m {proto} --dport {p} -j ACCEPT', 'legacy link: parent to exposed port'),
  t('filter', 'DOCKER', 'filter-link-reply', ALL_LAYOUTS, 'port', '-s {c} -d {parent} -i {br} -o {br} -p {proto} -m {proto} --sport {p} -j ACCEPT', 'legacy link: replies to the parent'),
  t('filter', 'DOCKER', 'filter-bridge-drop', SINCE_28, 'structure', '! -i {br} -o {br} -j DROP', 'drop everything else to the bridge (gateway mode nat/routed)'),
  t('filter', 'DOCKER', 'filter-bridge-unprotected-accept', SINCE_28, 'structure', '! -i {br} -o {br} -j ACCEPT', 'accept everything to the bridge (gateway mode nat-unprotected)'),
  t('filter', 'DOCKER', 'filter-routed-icmp-accept', SINCE_28, 'structure', '-o {br} -p {icmp} -j ACCEPT', 'routed network: accept ICMP to the bridge'),

  // filter DOCKER-INGRESS (swarm)
  t('filter', 'DOCKER-INGRESS', 'ingress-accept', ALL_LAYOUTS, 'none', '-p {proto} -m {proto} --dport {hp} -j ACCEPT', 'swarm ingress: accept a published port'),
  t('filter', 'DOCKER-INGRESS', 'ingress-reply-accept', ALL_LAYOUTS, 'none', `-p {proto} -m {proto} --sport {hp} ${CT} -j ACCEPT`, 'swarm ingress: accept replies'),
  t('filter', 'DOCKER-INGRESS', 'ingress-reply-accept', ['pre-28'], 'none', '-p {proto} -m state --state {ct} -m {proto} --sport {hp} -j ACCEPT', 'swarm ingress: accept replies (-m state, ≤ 24)'),
  t('filter', 'DOCKER-INGRESS', 'ingress-return', ALL_LAYOUTS, 'none', '-j RETURN', 'end of swarm ingress'),

  // filter DOCKER-USER: only the unconditional RETURN (≤ 28.2.1, kept on upgraded hosts)
  t('filter', 'DOCKER-USER', 'docker-user-return', [...ALL_LAYOUTS, 'none'], 'none', '-j RETURN', 'DOCKER-USER falls back to FORWARD'),

  // nat
  t('nat', 'PREROUTING', 'nat-prerouting-jump', ALL_LAYOUTS, 'none', '-m addrtype --dst-type LOCAL -j DOCKER', 'packets to local addresses enter nat DOCKER'),
  t('nat', 'PREROUTING', 'nat-prerouting-ingress-jump', ALL_LAYOUTS, 'none', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS', 'packets to local addresses enter swarm ingress'),
  t('nat', 'OUTPUT', 'nat-output-jump-proxy', ALL_LAYOUTS, 'none', '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER', 'host-originated packets enter nat DOCKER (loopback left to docker-proxy)'),
  t('nat', 'OUTPUT', 'nat-output-jump-proxy', ALL_LAYOUTS, 'none', '! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER', 'host-originated packets enter nat DOCKER (loopback left to docker-proxy)'),
  t('nat', 'OUTPUT', 'nat-output-jump-hairpin', ALL_LAYOUTS, 'none', '-m addrtype --dst-type LOCAL -j DOCKER', 'host-originated packets enter nat DOCKER (userland-proxy=false)'),
  t('nat', 'OUTPUT', 'nat-output-ingress-jump', ALL_LAYOUTS, 'none', '-m addrtype --dst-type LOCAL -j DOCKER-INGRESS', 'host-originated packets enter swarm ingress'),
  t('nat', 'POSTROUTING', 'nat-masquerade', ALL_LAYOUTS, 'structure', '-s {net} ! -o {br} -j MASQUERADE', 'masquerade traffic leaving the bridge subnet'),
  t('nat', 'POSTROUTING', 'nat-snat', ALL_LAYOUTS, 'structure', '-s {net} ! -o {br} -j SNAT --to-source {snat}', 'SNAT traffic leaving the bridge subnet (host_ipv4/host_ipv6)'),
  t('nat', 'POSTROUTING', 'nat-hairpin-masquerade', ALL_LAYOUTS, 'structure', '-o {br} -m addrtype --src-type LOCAL -j MASQUERADE', 'masquerade host-originated traffic into the bridge'),
  t('nat', 'POSTROUTING', 'nat-hairpin-snat', ALL_LAYOUTS, 'structure', '-o {br} -m addrtype --src-type LOCAL -j SNAT --to-source {snat}', 'SNAT host-originated traffic into the bridge'),
  t('nat', 'POSTROUTING', 'nat-own-port-masquerade', ALL_LAYOUTS, 'none', '-s {c} -d {c} -p {proto} -m {proto} --dport {p} -j MASQUERADE', 'masquerade a container reaching its own published port'),
  t('nat', 'DOCKER', 'nat-skip-bridge-return', WITH_ISOLATION, 'structure', '-i {br} -j RETURN', 'no DNAT for packets from the bridge (userland-proxy on)'),
  t('nat', 'DOCKER', 'nat-wsl2-loopback-return', ALL_LAYOUTS, 'none', '-d 127.0.0.0/8 -i loopback0 -j RETURN', 'WSL2 mirrored networking: no DNAT from loopback0'),
  t('nat', 'DOCKER', 'nat-dnat', ALL_LAYOUTS, 'port', '[-d {hip} ][! -i {br} ]-p {proto} -m {proto} --dport {hp} -j DNAT --to-destination {to}', 'publish a port'),
  t('nat', 'DOCKER', 'nat-dnat', SINCE_28, 'port', '! -s fe80::/10 [-d {hip} ][! -i {br} ]-p {proto} -m {proto} --dport {hp} -j DNAT --to-destination {to}', 'publish a port (IPv6, link-local sources excluded)'),
  t('nat', 'DOCKER-INGRESS', 'nat-ingress-dnat', ALL_LAYOUTS, 'none', '-p {proto} -m {proto} --dport {hp} -j DNAT --to-destination {to}', 'swarm ingress: publish a port'),
  t('nat', 'DOCKER-INGRESS', 'nat-ingress-return', ALL_LAYOUTS, 'none', '-j RETURN', 'end of swarm ingress'),

  // raw PREROUTING (28.0+)
  t('raw', 'PREROUTING', 'raw-loopback-port-drop', SINCE_28, 'none', '-d 127.0.0.1/32 ! -i lo -p {proto} -m {proto} --dport {hp} -j DROP', 'drop non-loopback packets to a port published on 127.0.0.1'),
  t('raw', 'PREROUTING', 'raw-wsl2-loopback-accept', SINCE_28, 'none', '-d 127.0.0.1/32 -i loopback0 -p {proto} -m {proto} --dport {hp} -j ACCEPT', 'WSL2 mirrored networking: allow loopback0 to a loopback-published port'),
  t('raw', 'PREROUTING', 'raw-port-drop', PER_PORT_RAW, 'port', '-d {c} ! -i {br} -p {proto} -m {proto} --dport {p} -j DROP', 'drop direct access to a published container port'),
  t('raw', 'PREROUTING', 'raw-container-drop', PER_CONTAINER_RAW, 'port', '-d {c} ! -i {br} -j DROP', 'drop direct access to a container'),
  t('raw', 'PREROUTING', 'raw-trusted-interface-accept', PER_CONTAINER_RAW, 'none', '-d {c} -i {if} -j ACCEPT', 'trusted_host_interfaces: allow direct access from an interface'),

  // mangle: SCTP checksum fill for published SCTP ports
  t('mangle', 'POSTROUTING', 'mangle-sctp-checksum', WITH_ISOLATION, 'none', '-p sctp -m sctp --sport {p} -j CHECKSUM --checksum-fill', 'fill SCTP checksums of a published port'),
];

/** The layouts' templates by table, then chain: looked up for every chain of the dump. */
export function templatesFor(layouts: readonly DockerLayout[]): ReadonlyMap<TableName, ReadonlyMap<string, readonly Template[]>> {
  const byTable = new Map<TableName, Map<string, Template[]>>();
  for (const template of TEMPLATES) {
    if (!template.layouts.some((l) => layouts.includes(l))) continue;
    let byChain = byTable.get(template.table);
    if (!byChain) byTable.set(template.table, (byChain = new Map()));
    const list = byChain.get(template.chain) ?? [];
    list.push(template);
    byChain.set(template.chain, list);
  }
  return byTable;
}

export function matchTemplate(template: Template, text: string): Captures | undefined {
  const m = template.pattern.exec(text);
  if (!m) return undefined;
  const captures: Partial<Record<Placeholder, string>> = {};
  for (const [name, value] of Object.entries(m.groups ?? {})) if (value !== undefined) captures[name as Placeholder] = value;
  return captures;
}
