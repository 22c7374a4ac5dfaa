// Shared by the DFW101–DFW107 rules: who wrote a rule (Docker, another tool, or
// the administrator), which chains a hook reaches, what ports a rule names, and
// "what if" copies of a ruleset for the simulator to walk. No traversal logic
// lives here: the simulator walks, these helpers only read the AST and its answers.

import type { Chain, Family, Rule, Ruleset, TableName } from '../../grammar/ast.ts';
import type { LintSettings, RulesetView } from '../../src/engine/types.ts';
import type { DockerModel, PublishedPort } from '../../src/model/docker-types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import { interfaceMatches } from '../../src/sim/compile.ts';
import { createSimulator, type RulesetSimulator } from '../../src/sim/index.ts';

export { asRulesetSimulator } from '../DFW108-DFW114-lib/trace.ts';

/**
 * Chains other tools own and rewrite (ufw, firewalld, kube-proxy, flannel): their
 * rules are not the administrator's hand-written filter, and ufw's user chains have
 * a rule of their own (DFW110).
 */
const TOOL_CHAIN = /^(?:ufw6?-|KUBE-|FLANNEL-|CILIUM_|cali-)|_direct$|_ZONES(?:_SOURCE)?$|^(?:IN|FWDI|FWDO|PRE|POST)_/;

export function isToolOwnedChain(name: string): boolean {
  return TOOL_CHAIN.test(name);
}

/** A rule the administrator wrote: not Docker's, not in a chain another tool owns. */
export function isAdminRule(docker: DockerModel, rule: Rule): boolean {
  return !docker.dockerRules.has(rule) && !isToolOwnedChain(rule.chain);
}

export function chainOf(ruleset: Ruleset, table: TableName, name: string): Chain | undefined {
  return ruleset.tables.find((t) => t.name === table)?.chains.find((c) => c.name === name);
}

/** Chains reachable from `roots` by jumps and gotos (the roots included). */
export function reachableChains(ruleset: Ruleset, table: TableName, roots: readonly string[]): Set<string> {
  const chains = ruleset.tables.find((t) => t.name === table)?.chains ?? [];
  const byName = new Map(chains.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const queue = roots.filter((r) => byName.has(r));
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const rule of byName.get(name)?.rules ?? []) {
      if (rule.target?.kind === 'chain' && byName.has(rule.target.chain)) queue.push(rule.target.chain);
    }
  }
  return seen;
}

/** `-j DROP` or `-j REJECT`. */
export function isDropOrReject(rule: Rule): boolean {
  const t = rule.target;
  return t !== undefined && ((t.kind === 'verdict' && t.name === 'DROP') || t.kind === 'REJECT');
}

/** The verb for messages: drops / rejects. */
export function dropVerb(rule: Rule): 'drops' | 'rejects' {
  return rule.target?.kind === 'REJECT' ? 'rejects' : 'drops';
}

/** A rule that matches every packet: no address, interface, protocol or fragment test, only comments. */
export function isUnconditional(rule: Rule): boolean {
  const anyAddress = (a: Rule['source']) => a === undefined || (a.prefixLength === 0 && !a.negated);
  return (rule.protocol === undefined || (rule.protocol.number === 0 && !rule.protocol.negated))
    && anyAddress(rule.source) && anyAddress(rule.destination)
    && rule.inInterface === undefined && rule.outInterface === undefined && rule.fragment === undefined
    && rule.matches.every((m) => m.kind === 'comment');
}

/** Whether the rule's protocol test lets `proto` through (no test, `-p all`, or that protocol). */
export function protocolAllows(rule: Rule, proto: string): boolean {
  const p = rule.protocol;
  if (!p || p.number === 0) return !p?.negated;
  return (p.name === proto) !== p.negated;
}

interface PortRangeLike { readonly from: number; readonly to: number }

/** The destination-port ranges a rule restricts to (tcp/udp/sctp --dport, multiport --dports/--ports), or undefined. */
export function destinationPortRanges(rule: Rule): readonly PortRangeLike[] | undefined {
  let ranges: PortRangeLike[] | undefined;
  for (const m of rule.matches) {
    let list: { readonly ranges: readonly PortRangeLike[]; readonly negated: boolean } | undefined;
    if (m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp' || m.kind === 'dccp') list = m.dport;
    else if (m.kind === 'multiport') list = m.dports ?? m.ports;
    if (!list || list.negated) continue;
    ranges = [...(ranges ?? []), ...list.ranges];
  }
  return ranges;
}

/**
 * Whether the rule picks out `port` by a destination-port match: the port is in
 * its list and the list is not simply every port.
 */
export function namesPort(rule: Rule, proto: string, port: number): boolean {
  if (!protocolAllows(rule, proto)) return false;
  const ranges = destinationPortRanges(rule);
  if (!ranges) return false;
  const everything = ranges.some((r) => r.from <= 1 && r.to >= 65535);
  return !everything && ranges.some((r) => r.from <= port && port <= r.to);
}

/** Original-tuple conntrack options: a rule using them already looks at the address/port before DNAT. */
export function usesOriginalTuple(rule: Rule): boolean {
  return rule.matches.some((m) => m.kind === 'conntrack' && (m.ctorigdst !== undefined || m.ctorigdstport !== undefined));
}

/** Docker's published ports that have a DNAT (the usual `-p` and swarm ingress), not routed ACCEPT-only ones. */
export function dnatPublished(docker: DockerModel): PublishedPort[] {
  return docker.published.filter((p) => p.dnatRule !== undefined && p.via !== 'routed');
}

export type ChainEdit = (table: TableName, chain: Chain) => readonly Rule[] | undefined;

/** A copy of the ruleset with some chains' rule lists replaced; rules keep their identity (and spans). */
export function editRuleset(ruleset: Ruleset, edit: ChainEdit): Ruleset {
  return {
    ...ruleset,
    tables: ruleset.tables.map((table) => ({
      ...table,
      chains: table.chains.map((chain) => {
        const rules = edit(table.name, chain);
        return rules === undefined ? chain : { ...chain, rules };
      }),
    })),
  };
}

/** A simulator over an edited copy of the view's ruleset, with the same host settings the engine used. */
export function whatIfSimulator(view: RulesetView, settings: LintSettings, edit: ChainEdit): RulesetSimulator {
  return createSimulator(editRuleset(view.ruleset, edit), view.docker, {
    localAddresses: settings.localAddresses,
    externalInterfaces: settings.externalInterfaces,
  });
}

/** What a forwarded packet looks like in filter FORWARD, for `mayMatch`. Absent fields: unknown. */
export interface ForwardedPacket {
  readonly family: Family;
  readonly proto: string;
  readonly dst?: string;
  readonly dport?: number;
  readonly outInterface?: string;
}

/**
 * A cheap, conservative pre-check: false only when the rule's own protocol,
 * destination, destination port or output-interface test certainly rejects the
 * packet. Lets a rule skip simulator questions that cannot concern a candidate;
 * the simulator still decides every question that is asked.
 */
export function mayMatch(rule: Rule, packet: ForwardedPacket): boolean {
  if (!protocolAllows(rule, packet.proto)) return false;
  if (packet.dst !== undefined && rule.destination && !AddressSet.fromMatch(packet.family, rule.destination).containsText(packet.dst)) return false;
  if (packet.outInterface !== undefined && rule.outInterface && !interfaceMatches(rule.outInterface, packet.outInterface)) return false;
  if (packet.dport !== undefined) {
    for (const m of rule.matches) {
      const list = m.kind === 'tcp' || m.kind === 'udp' || m.kind === 'sctp' ? m.dport : m.kind === 'multiport' ? m.dports : undefined;
      if (!list) continue;
      const hit = list.ranges.some((r) => r.from <= packet.dport! && packet.dport! <= r.to);
      if (hit === list.negated) return false;
    }
  }
  return true;
}
