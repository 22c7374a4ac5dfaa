// Ruleset → DockerModel: the layout, then Docker's rules (classify.ts), then
// what those rules say about bridges, containers, published ports, DOCKER-USER,
// the userland proxy and swarm.

import type { Ruleset } from '../../../grammar/ast.ts';
import type {
  DockerBridge, DockerContainer, DockerModel, DockerUserChain, GatewayMode, PublishedPort, PublishedProtocol,
} from '../docker-types.ts';
import { dockerChainsPresent, indexRuleset, type RulesetIndex } from './chains.ts';
import { classify, DOCKER_BRIDGE_NAME, natTarget, type Classification } from './classify.ts';
import { versionHints } from './hints.ts';
import { compareCodeUnits } from '../order.ts';
import { candidatesText, detectLayout, layoutText } from './layout.ts';

const ICC_DROP = ['forward-icc-drop', 'docker-forward-icc-drop'];
const RAW_DROP = ['raw-port-drop', 'raw-container-drop'];

export function recogniseDocker(ruleset: Ruleset): DockerModel {
  const family = ruleset.family;
  const index = indexRuleset(ruleset);
  const verdict = detectLayout(index);
  const facts = classify(index, verdict.candidates);
  const { addresses } = facts;

  const containers = placeContainers(facts);
  const published = publishedPorts(facts, containers);

  const bridges: DockerBridge[] = [...facts.bridges].sort().map((name) => {
    const templates = facts.templatesOf(name);
    const internal = facts.internal.has(name);
    const gatewayMode: GatewayMode = internal ? 'isolated'
      : facts.routed.has(name) ? 'routed'
      : templates.has('filter-bridge-unprotected-accept') ? 'nat-unprotected'
      : 'nat';
    return {
      name,
      subnets: facts.subnets.of(name),
      gatewayMode,
      internal,
      icc: !ICC_DROP.some((id) => templates.has(id)),
      rawProtected: RAW_DROP.some((id) => templates.has(id)),
    };
  });

  const forward = index.rules('filter', 'FORWARD');
  const userJump = facts.byTemplate('forward-docker-user-jump')[0]?.rule;
  const anyUserJump = userJump ?? forward.find((r) => r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER');
  const userReturn = facts.byTemplate('docker-user-return')[0]?.rule;
  const dockerUser: DockerUserChain = {
    exists: index.chain('filter', 'DOCKER-USER') !== undefined,
    firstInForward: userJump !== undefined && forward[0] === userJump,
    ...(anyUserJump ? { jumpRule: anyUserJump } : {}),
    ...(userReturn ? { returnRule: userReturn } : {}),
  };

  const dockerChains = dockerChainsPresent(index);
  const referenced = referencedBridges(index, facts.bridges, verdict.layout === 'none');
  const hints = versionHints({
    family,
    layout: verdict.layout,
    candidates: verdict.candidates,
    dockerUser,
    routed: facts.routed.size > 0,
    referencedBridges: referenced,
    has: (id, test) => facts.byTemplate(id).some((m) => !test || test(m.rule.text)),
  });
  const dockerRuleTemplates = new Map([...facts.accepted].map(([rule, m]) => [rule, m.template.id]));

  return {
    family,
    layout: verdict.layout,
    description: [verdict.candidates.length > 1 ? candidatesText(verdict.candidates) : layoutText(verdict.layout), ...hints].join('; '),
    bridges,
    containers: [...containers]
      .map(([address, bridge]): DockerContainer => ({ address, bridge }))
      .sort((a, b) => compareCodeUnits(a.bridge, b.bridge) || addresses.compare(a.address, b.address)),
    published,
    dockerUser,
    userlandProxy: proxyMode(facts),
    swarm: dockerChains.has('DOCKER-INGRESS') || facts.bridges.has('docker_gwbridge'),
    dockerChains,
    dockerRules: new Set(facts.accepted.keys()),
    referencedBridges: referenced,
    ...(verdict.candidates.length > 1 ? { layoutCandidates: verdict.candidates } : {}),
    dockerRuleTemplates,
  };
}

/** Each container address on one bridge, from the most specific rule that names both. */
function placeContainers(facts: Classification): Map<string, string> {
  const { addresses, subnets } = facts;
  const placed = new Map<string, string>();
  const place = (address: string, bridge: string | undefined) => {
    const canonical = addresses.canonical(address);
    if (bridge && !placed.has(canonical)) placed.set(canonical, bridge);
  };
  for (const m of facts.portAccepts) place(m.captures.c!, m.captures.br);
  for (const d of facts.dnats) place(d.address, d.bridge);
  for (const m of facts.rawDrops) place(m.captures.c!, m.captures.br);
  for (const m of [...facts.byTemplate('filter-link-accept'), ...facts.byTemplate('filter-link-reply')]) {
    place(m.captures.c!, m.captures.br);
    place(m.captures.parent!, m.captures.br);
  }
  for (const m of facts.byTemplate('nat-own-port-masquerade')) place(m.captures.c!, subnets.bridgeOf(m.captures.c!));
  // The swarm ingress sandbox sits on docker_gwbridge.
  const gwbridge = facts.bridges.has('docker_gwbridge') ? 'docker_gwbridge' : undefined;
  for (const m of facts.byTemplate('nat-ingress-dnat')) {
    const target = natTarget(m.captures.to!)!;
    place(target.address, subnets.bridgeOf(target.address) ?? gwbridge);
  }
  return placed;
}

/** nat DOCKER DNATs, swarm ingress DNATs and routed-mode ACCEPTs, in file order. */
function publishedPorts(facts: Classification, containers: ReadonlyMap<string, string>): PublishedPort[] {
  const { addresses } = facts;
  const found: { line: number; port: PublishedPort }[] = [];
  for (const d of facts.dnats) {
    const { proto, hip, hp } = d.match.captures;
    const acceptRule = facts.acceptFor(d.address, proto!, d.port)?.rule;
    found.push({
      line: d.match.rule.span.line,
      port: {
        proto: proto as PublishedProtocol,
        ...(hip ? { hostAddress: addresses.canonical(hip) } : {}),
        hostPort: Number(hp),
        container: { address: d.address, port: d.port },
        bridge: d.bridge,
        dnatRule: d.match.rule,
        ...(acceptRule ? { acceptRule } : {}),
        via: 'dnat',
      },
    });
  }
  const ingressAccepts = facts.byTemplate('ingress-accept');
  for (const m of facts.byTemplate('nat-ingress-dnat')) {
    const target = natTarget(m.captures.to!)!;
    const address = addresses.canonical(target.address);
    const acceptRule = ingressAccepts.find((a) => a.captures.proto === m.captures.proto && a.captures.hp === m.captures.hp)?.rule;
    found.push({
      line: m.rule.span.line,
      port: {
        proto: m.captures.proto as PublishedProtocol,
        hostPort: Number(m.captures.hp),
        container: { address, port: target.port },
        bridge: containers.get(address) ?? '',
        dnatRule: m.rule,
        ...(acceptRule ? { acceptRule } : {}),
        via: 'ingress',
      },
    });
  }
  // Routed networks publish the container port itself: no DNAT, reached at the container address.
  for (const m of facts.portAccepts) {
    const { c, proto, p, br } = m.captures;
    if (!facts.routed.has(br!) || facts.dnatFor(c!, proto!, p!)) continue;
    const address = addresses.canonical(c!);
    found.push({
      line: m.rule.span.line,
      port: {
        proto: proto as PublishedProtocol,
        hostAddress: address,
        hostPort: Number(p),
        container: { address, port: Number(p) },
        bridge: br!,
        acceptRule: m.rule,
        via: 'routed',
      },
    });
  }
  return found.sort((a, b) => a.line - b.line).map((f) => f.port);
}

/**
 * userland-proxy: the nat OUTPUT jump says it most directly (loopback is left to
 * docker-proxy only when it runs); then the DNATs (`! -i <br>` only with the proxy),
 * the skip-DNAT RETURNs (proxy only) and the hairpin MASQUERADE (no proxy; swarm
 * writes one for docker_gwbridge regardless, so that one does not count).
 */
function proxyMode(facts: Classification): 'on' | 'off' | 'unknown' {
  if (facts.byTemplate('nat-output-jump-proxy').length > 0) return 'on';
  if (facts.byTemplate('nat-output-jump-hairpin').length > 0) return 'off';
  if (facts.dnats.some((d) => d.match.captures.br !== undefined)) return 'on';
  if (facts.dnats.length > 0) return 'off';
  if (facts.byTemplate('nat-skip-bridge-return').length > 0) return 'on';
  const hairpin = [...facts.byTemplate('nat-hairpin-masquerade'), ...facts.byTemplate('nat-hairpin-snat')];
  if (hairpin.some((m) => m.captures.br !== 'docker_gwbridge')) return 'off';
  return 'unknown';
}

/**
 * Interfaces that are (or were) Docker bridges: the recognised ones, interfaces with
 * Docker's names and, when Docker wrote no chains, the bridges of Docker-shaped NAT
 * leftovers (`-s <subnet> ! -o <br> -j MASQUERADE|SNAT`, `! -i <br> … -j DNAT`), which is
 * what `iptables: false` hosts carry. With Docker's chains present, a look-alike for an
 * interface that is not a recognised bridge is the administrator's, for something else.
 */
function referencedBridges(index: RulesetIndex, recognised: ReadonlySet<string>, leftovers: boolean): string[] {
  const names = new Set(recognised);
  const consider = (name: string | undefined) => { if (name && DOCKER_BRIDGE_NAME.test(name)) names.add(name); };
  // Any order: the names are sorted below.
  for (const table of index.ruleset.tables) for (const chain of table.chains) for (const rule of chain.rules) {
    if (rule.inInterface && !rule.inInterface.wildcard) consider(rule.inInterface.name);
    if (rule.outInterface && !rule.outInterface.wildcard) consider(rule.outInterface.name);
    if (!leftovers || rule.table !== 'nat') continue;
    const kind = rule.target?.kind;
    if (rule.chain === 'POSTROUTING' && (kind === 'MASQUERADE' || kind === 'SNAT') && rule.source && !rule.source.negated
      && rule.outInterface?.negated && !rule.outInterface.wildcard && !rule.protocol && !rule.destination && rule.matches.length === 0) {
      names.add(rule.outInterface.name);
    }
    if (kind === 'DNAT' && rule.inInterface?.negated && !rule.inInterface.wildcard && rule.inInterface.name !== 'lo') {
      names.add(rule.inInterface.name);
    }
  }
  return [...names].sort((a, b) => (a === 'docker0' ? -1 : b === 'docker0' ? 1 : compareCodeUnits(a, b)));
}
