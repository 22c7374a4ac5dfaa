// Which rules Docker wrote.
//
// (1) Every rule of a chain Docker writes to is matched against the templates
// of the layouts the dump is consistent with. (2) Interface names become Docker
// bridges when independent templates agree (or the name is one Docker gives its
// bridges); their subnets come from the MASQUERADE/SNAT and internal-network
// rules. (3) Each template match is checked against the rest of the dump: its
// bridge must be a Docker bridge, its container must sit in that bridge's
// subnet, a filter ACCEPT for a published port needs its DNAT, an own-port
// MASQUERADE its port, and so on. Matches that survive are Docker's rules, so an
// administrator's look-alike for another interface or address is not.

import type { Rule } from '../../../grammar/ast.ts';
import type { DockerLayout } from '../docker-types.ts';
import { Addresses, BridgeSubnets } from './addresses.ts';
import { isUnconditional, type RulesetIndex } from './chains.ts';
import { matchTemplate, templatesFor, type Captures, type Template } from './templates.ts';

export interface Match {
  readonly rule: Rule;
  readonly template: Template;
  readonly captures: Captures;
}

/** A DNAT in nat DOCKER that publishes a port. */
export interface DnatMatch {
  readonly match: Match;
  /** Canonical container address. */
  readonly address: string;
  readonly port: number;
  /** '' when nothing in the dump tells which of several bridges holds the container. */
  readonly bridge: string;
}

export interface Classification {
  readonly addresses: Addresses;
  readonly bridges: ReadonlySet<string>;
  readonly subnets: BridgeSubnets;
  readonly internal: ReadonlySet<string>;
  readonly routed: ReadonlySet<string>;
  /** Docker's rules with the template each matched, in file order. */
  readonly accepted: ReadonlyMap<Rule, Match>;
  readonly dnats: readonly DnatMatch[];
  /** Filter DOCKER ACCEPTs for published container ports that are Docker's. */
  readonly portAccepts: readonly Match[];
  readonly rawDrops: readonly Match[];
  /** Accepted matches by template id. */
  byTemplate(id: string): readonly Match[];
  /** Template ids of the accepted matches that name this bridge. */
  templatesOf(bridge: string): ReadonlySet<string>;
  /** `address proto port` of a Docker DNAT target / port ACCEPT. */
  dnatFor(address: string, proto: string, port: number | string): DnatMatch | undefined;
  acceptFor(address: string, proto: string, port: number | string): Match | undefined;
}

/** Names Docker gives its bridges: the default bridge, user networks, swarm's gateway bridge. */
export const DOCKER_BRIDGE_NAME = /^(?:docker0|docker_gwbridge|br-[0-9a-f]{12})$/;

const SUBNET_TEMPLATES = new Set(['nat-masquerade', 'nat-snat', 'internal-drop-in', 'internal-drop-out']);
const MASQUERADE = new Set(['nat-masquerade', 'nat-snat']);
const INTERNAL = new Set(['internal-drop-in', 'internal-drop-out']);
const ROUTED_MARKERS = new Set(['filter-routed-icmp-accept', 'isolation-routed-ct-accept', 'isolation-routed-return']);
const RAW_DROP = new Set(['raw-port-drop', 'raw-container-drop']);

/** `172.17.0.2:80`, `"[fd00::2]:80"` → address and port. */
export function natTarget(text: string): { address: string; port: number } | undefined {
  const m = /^"?\[?([0-9a-fA-F.:]+?)\]?:(\d+)"?$/.exec(text);
  return m ? { address: m[1]!, port: Number(m[2]) } : undefined;
}

function matchAll(index: RulesetIndex, layouts: readonly DockerLayout[]): Match[] {
  const byTable = templatesFor(layouts);
  const found: Match[] = [];
  for (const table of index.ruleset.tables) {
    const byName = byTable.get(table.name);
    if (!byName) continue;
    for (const chain of table.chains) {
      const templates = byName.get(chain.name);
      if (!templates) continue;
      for (const rule of chain.rules) {
        for (const template of templates) {
          const captures = matchTemplate(template, rule.text);
          if (captures) found.push({ rule, template, captures });
        }
      }
    }
  }
  return found;
}

/** Interface names enough templates call a bridge: two kinds, one of them structural, or a name Docker uses. */
function recogniseBridges(matches: readonly Match[]): Set<string> {
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

function group<K, V>(items: readonly V[], key: (item: V) => K): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function classify(index: RulesetIndex, layouts: readonly DockerLayout[]): Classification {
  const addresses = new Addresses(index.ruleset.family);
  const candidates = matchAll(index, layouts);
  const shapes = group(candidates, (m) => m.template.id);
  const shaped = (ids: ReadonlySet<string> | string): Match[] =>
    typeof ids === 'string' ? shapes.get(ids) ?? [] : [...ids].flatMap((id) => shapes.get(id) ?? []);

  const bridges = recogniseBridges(candidates);
  const isBridge = (name: string | undefined): name is string => name !== undefined && bridges.has(name);
  const subnets = new BridgeSubnets(addresses);
  for (const m of candidates) {
    if (SUBNET_TEMPLATES.has(m.template.id) && isBridge(m.captures.br) && m.captures.net) subnets.add(m.captures.br, m.captures.net);
  }
  const internal = new Set(shaped(INTERNAL).map((m) => m.captures.br).filter(isBridge));
  const fits = (address: string, br: string | undefined) => isBridge(br) && subnets.holds(br, address) !== false;
  const key = (address: string, proto: string, port: number | string) => `${addresses.canonical(address)} ${proto} ${port}`;

  const accepted = new Map<Rule, Match>();
  const accept = (m: Match) => { if (!accepted.has(m.rule)) accepted.set(m.rule, m); };

  // Published ports: filter ACCEPT shapes and raw drops first, they help place DNATs.
  const acceptShapes = shaped('filter-port-accept').filter((m) => fits(m.captures.c!, m.captures.br));
  const acceptShapeFor = new Map(acceptShapes.map((m) => [key(m.captures.c!, m.captures.proto!, m.captures.p!), m]));
  const bridgeOfContainer = new Map(acceptShapes.map((m) => [addresses.canonical(m.captures.c!), m.captures.br!]));
  const rawDrops = shaped(RAW_DROP).filter((m) => fits(m.captures.c!, m.captures.br));
  for (const m of rawDrops) {
    accept(m);
    const address = addresses.canonical(m.captures.c!);
    if (!bridgeOfContainer.has(address)) bridgeOfContainer.set(address, m.captures.br!);
  }
  const unplacedBridges = [...bridges].filter((b) => !subnets.known(b) && !internal.has(b));

  const dnats: DnatMatch[] = [];
  for (const m of shaped('nat-dnat')) {
    const target = natTarget(m.captures.to!);
    if (!target) continue;
    const address = addresses.canonical(target.address);
    let bridge: string | undefined;
    if (m.captures.br !== undefined) {
      if (!fits(address, m.captures.br)) continue;
      bridge = m.captures.br;
    } else {
      bridge = subnets.bridgeOf(address) ?? acceptShapeFor.get(key(address, m.captures.proto!, target.port))?.captures.br
        ?? bridgeOfContainer.get(address);
      if (bridge === undefined) {
        // Nothing places it (say nat-unprotected with masquerading off): a bridge whose
        // subnet the dump does not show may hold it; that bridge if it is the only one.
        if (unplacedBridges.length === 0) continue;
        bridge = unplacedBridges.length === 1 ? unplacedBridges[0]! : '';
      }
    }
    dnats.push({ match: m, address, port: target.port, bridge });
    accept(m);
  }
  const dnatByKey = new Map(dnats.map((d) => [key(d.address, d.match.captures.proto!, d.port), d]));

  // Routed bridges: 28+ marks them; in 27 their published ports have no DNAT and they no MASQUERADE.
  const routed = new Set(shaped(ROUTED_MARKERS).map((m) => m.captures.br).filter(isBridge));
  const natDocker = index.chain('nat', 'DOCKER') !== undefined;
  if (natDocker) {
    const masqueraded = new Set(shaped(MASQUERADE).map((m) => m.captures.br));
    for (const [br, list] of group(acceptShapes, (m) => m.captures.br!)) {
      const noDnat = list.every((m) => !dnatByKey.has(key(m.captures.c!, m.captures.proto!, m.captures.p!)));
      if (noDnat && !masqueraded.has(br)) routed.add(br);
    }
  }
  const portAccepts = acceptShapes.filter((m) =>
    routed.has(m.captures.br!) || !natDocker || dnatByKey.has(key(m.captures.c!, m.captures.proto!, m.captures.p!)));
  for (const m of portAccepts) accept(m);
  const acceptByKey = new Map(portAccepts.map((m) => [key(m.captures.c!, m.captures.proto!, m.captures.p!), m]));

  // Everything else, each by its own evidence.
  const loopbackPorts = new Set(dnats.filter((d) => d.match.captures.hip === '127.0.0.1/32').map((d) => `${d.match.captures.proto} ${d.match.captures.hp}`));
  const rawProtected = new Set(rawDrops.map((m) => addresses.canonical(m.captures.c!)));
  const sctpPorts = new Set([
    ...dnats.filter((d) => d.match.captures.proto === 'sctp').map((d) => String(d.port)),
    ...portAccepts.filter((m) => m.captures.proto === 'sctp').map((m) => m.captures.p!),
  ]);
  const portsKnown = natDocker || index.chain('filter', 'DOCKER') !== undefined;
  // Docker keeps one unconditional jump to DOCKER-USER first in FORWARD and appends one RETURN.
  const userJump = index.rules('filter', 'FORWARD').find((r) => isUnconditional(r) && r.target?.kind === 'chain' && r.target.chain === 'DOCKER-USER' && !r.target.goto);
  const userReturn = [...index.rules('filter', 'DOCKER-USER')].reverse()
    .find((r) => isUnconditional(r) && r.target?.kind === 'verdict' && r.target.name === 'RETURN');

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
        if (fits(c!, br) && fits(parent!, br)) accept(m);
        break;
      case 'nat-own-port-masquerade':
        if (dnatByKey.has(key(c!, proto!, p!))) accept(m);
        break;
      case 'raw-loopback-port-drop': case 'raw-wsl2-loopback-accept':
        if (!natDocker || loopbackPorts.has(`${proto} ${hp}`)) accept(m);
        break;
      case 'raw-trusted-interface-accept':
        if (rawProtected.has(addresses.canonical(c!))) accept(m);
        break;
      case 'mangle-sctp-checksum':
        if (!portsKnown || sctpPorts.has(p!)) accept(m);
        break;
      case 'nat-ingress-dnat':
        if (natTarget(to!)?.port === Number(hp)) accept(m);
        break;
      default:
        if (br === undefined || isBridge(br)) accept(m);
    }
  }

  const ordered = new Map([...accepted].sort(([a], [b]) => a.span.line - b.span.line));
  const acceptedList = [...ordered.values()];
  const byTemplate = group(acceptedList, (m) => m.template.id);
  const bridgeTemplates = new Map<string, Set<string>>();
  for (const m of acceptedList) {
    if (!m.captures.br) continue;
    const set = bridgeTemplates.get(m.captures.br) ?? new Set<string>();
    set.add(m.template.id);
    bridgeTemplates.set(m.captures.br, set);
  }
  const none: ReadonlySet<string> = new Set();
  return {
    addresses,
    bridges,
    subnets,
    internal,
    routed,
    accepted: ordered,
    dnats,
    portAccepts,
    rawDrops,
    byTemplate: (id) => byTemplate.get(id) ?? [],
    templatesOf: (bridge) => bridgeTemplates.get(bridge) ?? none,
    dnatFor: (address, proto, port) => dnatByKey.get(key(address, proto, port)),
    acceptFor: (address, proto, port) => acceptByKey.get(key(address, proto, port)),
  };
}
