// Ruleset → DockerModel: which rules Docker wrote, and what they say about
// its bridges, containers and published ports.
//
// Three passes. (1) Every rule of a chain Docker writes to is matched against
// the templates of the layouts the dump is consistent with. (2) Interface names
// become Docker bridges when enough independent templates name them (or the
// name is one Docker gives its bridges), and their subnets come from the
// MASQUERADE/SNAT and internal-network rules. (3) Each template match is then
// checked against the rest of the dump: its bridge must be a Docker bridge, its
// container must sit in that bridge's subnet, a filter ACCEPT for a published
// port needs its DNAT, and so on. Only matches that survive are Docker's rules,
// so an admin's look-alike rule for another interface or address is not.

import type { Rule, Ruleset } from '../../../grammar/ast.ts';
import type {
  DockerBridge, DockerContainer, DockerLayout, DockerModel, DockerUserChain, GatewayMode, PublishedPort, PublishedProtocol, Subnet,
} from '../docker-types.ts';
import { AddressSet, addressToBigint } from '../addrset.ts';
import { dockerChainsPresent, indexRuleset, isUnconditional, type RulesetIndex } from './chains.ts';
import { candidatesText, detectLayout, layoutText } from './layout.ts';
import { templatesFor, matchTemplate, type Captures, type Template } from './templates.ts';
import { versionHints } from './hints.ts';

interface Match {
  readonly rule: Rule;
  readonly template: Template;
  readonly captures: Captures;
}

/** Names Docker gives its bridges: the default bridge, user networks, swarm's gateway bridge. */
const DOCKER_BRIDGE_NAME = /^(?:docker0|docker_gwbridge|br-[0-9a-f]{12})$/;

const STRUCTURAL_MASQ = new Set(['nat-masquerade', 'nat-snat']);
const INTERNAL = new Set(['internal-drop-in', 'internal-drop-out']);
const ROUTED_MARKERS = new Set(['filter-routed-icmp-accept', 'isolation-routed-ct-accept', 'isolation-routed-return']);
const ICC_DROP = new Set(['forward-icc-drop', 'docker-forward-icc-drop']);
const RAW_DROP = new Set(['raw-port-drop', 'raw-container-drop']);

/** `172.17.0.2/32` → `172.17.0.2`. */
function host(text: string): string {
  return text.replace(/\/\d+$/, '');
}

/** `172.17.0.2:80`, `"[fd00::2]:80"` → address and port. */
function natTarget(text: string): { address: string; port: number } | undefined {
  const m = /^"?\[?([0-9a-fA-F.:]+?)\]?:(\d+)"?$/.exec(text);
  return m ? { address: m[1]!, port: Number(m[2]) } : undefined;
}

function portKey(address: string, proto: string, port: string | number): string {
  return `${address} ${proto} ${port}`;
}

function parseSubnet(text: string): Subnet {
  const [address, prefix] = text.split('/');
  return { address: address!, prefixLength: Number(prefix) };
}

function matchAll(index: RulesetIndex, layouts: readonly DockerLayout[]): Map<Rule, Match[]> {
  const byChain = templatesFor(layouts);
  const found = new Map<Rule, Match[]>();
  for (const table of index.ruleset.tables) {
    for (const chain of table.chains) {
      const templates = byChain.get(`${table.name} ${chain.name}`);
      if (!templates) continue;
      for (const rule of chain.rules) {
        const matches: Match[] = [];
        for (const template of templates) {
          const captures = matchTemplate(template, rule.text);
          if (captures) matches.push({ rule, template, captures });
        }
        if (matches.length > 0) found.set(rule, matches);
      }
    }
  }
  return found;
}

/** Interface names that enough templates call a bridge. */
function recogniseBridges(matches: Iterable<Match>): Set<string> {
  const kinds = new Map<string, { ids: Set<string>; structural: boolean }>();
  for (const m of matches) {
    const br = m.captures.br;
    if (!br || m.template.evidence === 'none') continue;
    const entry = kinds.get(br) ?? { ids: new Set<string>(), structural: false };
    entry.ids.add(m.template.id);
    if (m.template.evidence === 'structure') entry.structural = true;
    kinds.set(br, entry);
  }
  const bridges = new Set<string>();
  for (const [name, { ids, structural }] of kinds) {
    if (name === 'lo') continue;
    if (DOCKER_BRIDGE_NAME.test(name) || (ids.size >= 2 && structural)) bridges.add(name);
  }
  return bridges;
}

export function recogniseDocker(ruleset: Ruleset): DockerModel {
  const family = ruleset.family;
  const index = indexRuleset(ruleset);
  const verdict = detectLayout(index);
  const found = matchAll(index, verdict.candidates);
  const candidates = [...found.values()].flat();
  const byId = (ids: ReadonlySet<string> | string) =>
    candidates.filter((m) => (typeof ids === 'string' ? m.template.id === ids : ids.has(m.template.id)));

  // Pass 2: bridges and their subnets.
  const bridgeNames = recogniseBridges(candidates);
  const isBridge = (name: string | undefined) => name !== undefined && bridgeNames.has(name);
  const subnets = new Map<string, Subnet[]>();
  for (const m of [...byId(STRUCTURAL_MASQ), ...byId(INTERNAL)]) {
    const { br, net } = m.captures;
    if (!br || !net || !isBridge(br)) continue;
    const list = subnets.get(br) ?? [];
    if (!list.some((s) => `${s.address}/${s.prefixLength}` === net)) list.push(parseSubnet(net));
    subnets.set(br, list);
  }
  const subnetSets = new Map([...subnets].map(([br, list]) => [br, AddressSet.fromCidrs(family, list.map((s) => `${s.address}/${s.prefixLength}`))]));
  /** true / false, or undefined when the bridge's subnet is not in the dump. */
  const inBridge = (address: string, br: string): boolean | undefined => subnetSets.get(br)?.containsText(host(address));
  const bridgeBySubnet = (address: string): string | undefined => {
    for (const [br, set] of subnetSets) if (set.containsText(host(address))) return br;
    return undefined;
  };
  const internalBridges = new Set(byId(INTERNAL).filter((m) => isBridge(m.captures.br)).map((m) => m.captures.br!));
  const natDocker = index.chain('nat', 'DOCKER') !== undefined;
  const filterDocker = index.chain('filter', 'DOCKER') !== undefined;

  // Pass 3: check each match against the rest of the dump, in dependency order.
  const accepted = new Map<Rule, Match>();
  const accept = (m: Match) => { if (!accepted.has(m.rule)) accepted.set(m.rule, m); };

  const portAcceptShapes = byId('filter-port-accept').filter((m) => isBridge(m.captures.br) && inBridge(m.captures.c!, m.captures.br!) !== false);
  const acceptShapeFor = new Map(portAcceptShapes.map((m) => [portKey(host(m.captures.c!), m.captures.proto!, m.captures.p!), m]));
  const rawDrops = byId(RAW_DROP).filter((m) => isBridge(m.captures.br) && inBridge(m.captures.c!, m.captures.br!) !== false);
  const rawDropBridge = new Map(rawDrops.map((m) => [host(m.captures.c!), m.captures.br!]));
  const acceptBridge = new Map(portAcceptShapes.map((m) => [host(m.captures.c!), m.captures.br!]));

  const dnats: { match: Match; address: string; port: number; bridge: string }[] = [];
  for (const m of byId('nat-dnat')) {
    const target = natTarget(m.captures.to!);
    if (!target) continue;
    const { br, proto, p } = { br: m.captures.br, proto: m.captures.proto!, p: target.port };
    let bridge: string | undefined;
    if (br !== undefined) {
      if (!isBridge(br) || inBridge(target.address, br) === false) continue;
      bridge = br;
    } else {
      bridge = bridgeBySubnet(target.address) ?? acceptShapeFor.get(portKey(target.address, proto, p))?.captures.br
        ?? rawDropBridge.get(target.address) ?? acceptBridge.get(target.address);
      if (bridge === undefined) {
        // No subnet, ACCEPT or raw rule places it (nat-unprotected with masquerading off): any
        // bridge whose subnet the dump does not show may hold it; the only one, if there is one.
        const unplaced = [...bridgeNames].filter((b) => !subnetSets.has(b) && !internalBridges.has(b));
        if (unplaced.length === 0) continue;
        bridge = unplaced.length === 1 ? unplaced[0]! : '';
      }
    }
    dnats.push({ match: m, address: target.address, port: target.port, bridge });
    accept(m);
  }
  const dnatFor = new Map(dnats.map((d) => [portKey(d.address, d.match.captures.proto!, d.port), d]));
  const loopbackPorts = new Set(dnats.filter((d) => d.match.captures.hip === '127.0.0.1/32').map((d) => `${d.match.captures.proto} ${d.match.captures.hp}`));

  // Routed bridges: 28+ marks them; in 27 they are the bridges whose published ports have no DNAT and no MASQUERADE.
  const routed = new Set<string>();
  for (const m of byId(ROUTED_MARKERS)) if (isBridge(m.captures.br)) routed.add(m.captures.br!);
  if (natDocker) {
    const masqueraded = new Set(byId(STRUCTURAL_MASQ).map((m) => m.captures.br));
    const perBridge = new Map<string, Match[]>();
    for (const m of portAcceptShapes) perBridge.set(m.captures.br!, [...(perBridge.get(m.captures.br!) ?? []), m]);
    for (const [br, list] of perBridge) {
      const noDnat = list.every((m) => !dnatFor.has(portKey(host(m.captures.c!), m.captures.proto!, m.captures.p!)));
      if (noDnat && !masqueraded.has(br)) routed.add(br);
    }
  }

  const portAccepts: Match[] = [];
  for (const m of portAcceptShapes) {
    const key = portKey(host(m.captures.c!), m.captures.proto!, m.captures.p!);
    if (routed.has(m.captures.br!) || !natDocker || dnatFor.has(key)) {
      portAccepts.push(m);
      accept(m);
    }
  }
  const acceptFor = new Map(portAccepts.map((m) => [portKey(host(m.captures.c!), m.captures.proto!, m.captures.p!), m]));
  for (const m of rawDrops) accept(m);
  const rawProtectedContainers = new Set(rawDrops.map((m) => host(m.captures.c!)));
  const sctpPorts = new Set([...dnats.filter((d) => d.match.captures.proto === 'sctp').map((d) => String(d.port)),
    ...portAccepts.filter((m) => m.captures.proto === 'sctp').map((m) => m.captures.p!)]);

  const userJump = index.rules('filter', 'FORWARD').find((r) => isUnconditional(r) && r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER' && !r.target.goto);
  const userReturn = [...index.rules('filter', 'DOCKER-USER')].reverse().find((r) => isUnconditional(r) && r.target?.kind === 'verdict' && r.target.name === 'RETURN');

  for (const m of candidates) {
    if (accepted.has(m.rule)) continue;
    const { br, c, parent, proto, p, hp, to } = m.captures;
    switch (m.template.id) {
      case 'nat-dnat': case 'filter-port-accept': case 'raw-port-drop': case 'raw-container-drop':
        break; // decided above
      case 'forward-docker-user-jump':
        if (m.rule === userJump) accept(m);
        break;
      case 'docker-user-return':
        if (m.rule === userReturn) accept(m);
        break;
      case 'filter-link-accept': case 'filter-link-reply':
        if (isBridge(br) && inBridge(c!, br!) !== false && inBridge(parent!, br!) !== false) accept(m);
        break;
      case 'nat-own-port-masquerade':
        if (dnatFor.has(portKey(host(c!), proto!, p!))) accept(m);
        break;
      case 'raw-loopback-port-drop': case 'raw-wsl2-loopback-accept':
        if (!natDocker || loopbackPorts.has(`${proto} ${hp}`)) accept(m);
        break;
      case 'raw-trusted-interface-accept':
        if (rawProtectedContainers.has(host(c!))) accept(m);
        break;
      case 'mangle-sctp-checksum':
        if ((!natDocker && !filterDocker) || sctpPorts.has(p!)) accept(m);
        break;
      case 'nat-ingress-dnat':
        if (natTarget(to!)?.port === Number(hp)) accept(m);
        break;
      default:
        if (br === undefined || isBridge(br)) accept(m);
    }
  }

  // Containers, each on one bridge.
  const containerBridge = new Map<string, string>();
  const place = (address: string, bridge: string | undefined) => {
    if (bridge && !containerBridge.has(address)) containerBridge.set(address, bridge);
  };
  for (const m of portAccepts) place(host(m.captures.c!), m.captures.br);
  for (const d of dnats) place(d.address, d.bridge);
  for (const m of rawDrops) place(host(m.captures.c!), m.captures.br);
  for (const m of accepted.values()) {
    const { c, parent, br } = m.captures;
    if (m.template.id === 'filter-link-accept' || m.template.id === 'filter-link-reply') {
      place(host(c!), br);
      place(host(parent!), br);
    }
    if (m.template.id === 'nat-own-port-masquerade') place(host(c!), bridgeBySubnet(c!));
  }

  const ingressDnats = [...accepted.values()].filter((m) => m.template.id === 'nat-ingress-dnat');
  const ingressBridge = isBridge('docker_gwbridge') ? 'docker_gwbridge' : undefined;
  for (const m of ingressDnats) {
    const target = natTarget(m.captures.to!)!;
    place(target.address, bridgeBySubnet(target.address) ?? ingressBridge);
  }

  // Published ports, in file order.
  const published: { line: number; port: PublishedPort }[] = [];
  for (const d of dnats) {
    const { proto, hip, hp } = d.match.captures;
    const acceptRule = acceptFor.get(portKey(d.address, proto!, d.port))?.rule;
    published.push({
      line: d.match.rule.span.line,
      port: {
        proto: proto as PublishedProtocol,
        ...(hip ? { hostAddress: host(hip) } : {}),
        hostPort: Number(hp),
        container: { address: d.address, port: d.port },
        bridge: d.bridge,
        dnatRule: d.match.rule,
        ...(acceptRule ? { acceptRule } : {}),
        via: 'dnat',
      },
    });
  }
  const ingressAccepts = [...accepted.values()].filter((m) => m.template.id === 'ingress-accept');
  for (const m of ingressDnats) {
    const target = natTarget(m.captures.to!)!;
    const acceptRule = ingressAccepts.find((a) => a.captures.proto === m.captures.proto && a.captures.hp === m.captures.hp)?.rule;
    published.push({
      line: m.rule.span.line,
      port: {
        proto: m.captures.proto as PublishedProtocol,
        hostPort: Number(m.captures.hp),
        container: target,
        bridge: containerBridge.get(target.address) ?? '',
        dnatRule: m.rule,
        ...(acceptRule ? { acceptRule } : {}),
        via: 'ingress',
      },
    });
  }
  for (const m of portAccepts) {
    const address = host(m.captures.c!);
    if (!routed.has(m.captures.br!) || dnatFor.has(portKey(address, m.captures.proto!, m.captures.p!))) continue;
    published.push({
      line: m.rule.span.line,
      port: {
        proto: m.captures.proto as PublishedProtocol,
        hostAddress: address,
        hostPort: Number(m.captures.p),
        container: { address, port: Number(m.captures.p) },
        bridge: m.captures.br!,
        acceptRule: m.rule,
        via: 'routed',
      },
    });
  }
  published.sort((a, b) => a.line - b.line);

  // Bridge properties.
  const acceptedList = [...accepted.values()];
  const bridgeHas = (br: string, ids: ReadonlySet<string>) => acceptedList.some((m) => m.captures.br === br && ids.has(m.template.id));
  const bridges: DockerBridge[] = [...bridgeNames].sort().map((name) => {
    const internal = bridgeHas(name, INTERNAL);
    const gatewayMode: GatewayMode = internal ? 'isolated'
      : routed.has(name) ? 'routed'
      : bridgeHas(name, new Set(['filter-bridge-unprotected-accept'])) ? 'nat-unprotected'
      : 'nat';
    return {
      name,
      subnets: subnets.get(name) ?? [],
      gatewayMode,
      internal,
      icc: !bridgeHas(name, ICC_DROP),
      rawProtected: bridgeHas(name, RAW_DROP),
    };
  });

  const numeric = (address: string) => addressToBigint(family, address) ?? 0n;
  const containers: DockerContainer[] = [...containerBridge]
    .map(([address, bridge]) => ({ address, bridge }))
    .sort((a, b) => a.bridge.localeCompare(b.bridge) || (numeric(a.address) < numeric(b.address) ? -1 : numeric(a.address) > numeric(b.address) ? 1 : 0));

  const dockerUser: DockerUserChain = {
    exists: index.chain('filter', 'DOCKER-USER') !== undefined,
    firstInForward: userJump !== undefined && index.rules('filter', 'FORWARD')[0] === userJump,
    ...(() => {
      const jumpRule = userJump ?? index.rules('filter', 'FORWARD').find((r) => r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER');
      return jumpRule ? { jumpRule } : {};
    })(),
    ...(userReturn ? { returnRule: userReturn } : {}),
  };

  const dockerChains = dockerChainsPresent(index);
  const swarm = dockerChains.has('DOCKER-INGRESS') || isBridge('docker_gwbridge');
  const userlandProxy = proxyMode(acceptedList, dnats.map((d) => d.match));

  const referenced = referencedBridges(index, bridgeNames);
  const hints = versionHints({
    family,
    layout: verdict.layout,
    candidates: verdict.candidates,
    dockerUser,
    routed: routed.size > 0,
    referencedBridges: referenced,
    has: (id, test) => acceptedList.some((m) => m.template.id === id && (!test || test(m.rule.text))),
  });
  const description = [
    verdict.candidates.length > 1 ? candidatesText(verdict.candidates) : layoutText(verdict.layout),
    ...hints,
  ].join('; ');

  const dockerRuleTemplates = new Map(acceptedList.map((m) => [m.rule, m.template.id]));
  return {
    family,
    layout: verdict.layout,
    description,
    bridges,
    containers,
    published: published.map((p) => p.port),
    dockerUser,
    userlandProxy,
    swarm,
    dockerChains,
    dockerRules: new Set(dockerRuleTemplates.keys()),
    referencedBridges: referenced,
    ...(verdict.candidates.length > 1 ? { layoutCandidates: verdict.candidates } : {}),
    dockerRuleTemplates,
  };
}

/**
 * userland-proxy: the nat OUTPUT jump says it most directly (loopback is left to
 * docker-proxy only when it runs); then the DNATs (`! -i <br>` only with the proxy),
 * the skip-DNAT RETURNs (proxy only) and the hairpin MASQUERADE (no proxy; swarm
 * writes one for docker_gwbridge regardless, so that one does not count).
 */
function proxyMode(accepted: readonly Match[], dnats: readonly Match[]): 'on' | 'off' | 'unknown' {
  const has = (id: string, where: (m: Match) => boolean = () => true) => accepted.some((m) => m.template.id === id && where(m));
  if (has('nat-output-jump-proxy')) return 'on';
  if (has('nat-output-jump-hairpin')) return 'off';
  if (dnats.some((m) => m.captures.br !== undefined)) return 'on';
  if (dnats.length > 0) return 'off';
  if (has('nat-skip-bridge-return')) return 'on';
  const hairpin = (m: Match) => m.captures.br !== 'docker_gwbridge';
  if (has('nat-hairpin-masquerade', hairpin) || has('nat-hairpin-snat', hairpin)) return 'off';
  return 'unknown';
}

/** Interfaces that are (or were) Docker bridges: recognised ones, Docker's names, and the bridges of Docker-shaped NAT leftovers. */
function referencedBridges(index: RulesetIndex, recognised: ReadonlySet<string>): string[] {
  const names = new Set(recognised);
  const consider = (name: string | undefined) => { if (name && DOCKER_BRIDGE_NAME.test(name)) names.add(name); };
  for (const rule of index.allRules) {
    if (rule.inInterface && !rule.inInterface.wildcard) consider(rule.inInterface.name);
    if (rule.outInterface && !rule.outInterface.wildcard) consider(rule.outInterface.name);
    if (rule.table !== 'nat') continue;
    // `-s <subnet> ! -o <br> -j MASQUERADE|SNAT`: written for (or copied from) a Docker bridge.
    if (rule.chain === 'POSTROUTING' && rule.source && !rule.source.negated && rule.outInterface?.negated && !rule.outInterface.wildcard
      && (rule.target?.kind === 'MASQUERADE' || rule.target?.kind === 'SNAT') && !rule.protocol && rule.matches.length === 0 && !rule.destination) {
      names.add(rule.outInterface.name);
    }
    // `! -i <br> … -j DNAT`: a port published the way Docker does it.
    if (rule.target?.kind === 'DNAT' && rule.inInterface?.negated && !rule.inInterface.wildcard && rule.inInterface.name !== 'lo') {
      names.add(rule.inInterface.name);
    }
  }
  return [...names].sort((a, b) => (a === 'docker0' ? -1 : b === 'docker0' ? 1 : a.localeCompare(b)));
}
