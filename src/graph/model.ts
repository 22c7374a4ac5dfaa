// The picture behind `dockfw-lint graph`: for every published port and every
// external interface, the chains a new connection walks through (nat, then
// filter) and where it ends up — the container, or dropped — with the rule
// that decides it. One witness packet is walked per group of sources that
// meet the same fate, so the edges are real paths, not guesses.

import type { Family } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import type { Host } from '../engine/types.ts';
import type { RulesetSimulator } from '../sim/index.ts';
import { candidateInterfaces, OTHER_INTERFACE, reachableSources, representativeLocalAddress } from '../sim/exposure.ts';
import type { L4Protocol, Trace, TraceStep } from '../sim/types.ts';
import { sampleAddress } from '../diff/compare.ts';
import { decidingStep } from '../diff/decide.ts';
import { sourcesText } from '../diff/labels.ts';
import { isRulesetSimulator, OTHER_INTERFACE_NAME } from '../diff/reachability.ts';

export type NodeKind = 'interface' | 'chain' | 'container' | 'host' | 'drop' | 'unknown';

export interface GraphNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** Lines of the label. */
  readonly label: readonly string[];
  readonly family: Family;
}

export type Outcome = 'accept' | 'drop' | 'unknown';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: readonly string[];
  /** The rule that decides the flows on this edge: drawn bold, coloured by outcome. */
  readonly decisive?: Outcome;
}

export interface Graph {
  readonly title: string;
  readonly families: readonly Family[];
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface GraphOptions {
  readonly externalInterfaces?: readonly string[];
}

/** Flows per decisive edge listed before "+N more". */
const MAX_FLOWS_PER_EDGE = 4;
const MAX_RULE_LENGTH = 72;

/** Left to right: where packets come from, the chains, where they end up. */
const NODE_ORDER: Readonly<Record<NodeKind, number>> = { interface: 0, chain: 1, container: 2, host: 3, drop: 4, unknown: 5 };

const FAMILY_PREFIX: Readonly<Record<Family, string>> = { ipv4: 'v4', ipv6: 'v6' };

function nodeId(family: Family, ...parts: readonly (string | number)[]): string {
  return [FAMILY_PREFIX[family], ...parts].map((p) => String(p).replace(/[^A-Za-z0-9]+/g, '_')).join('_');
}

/** A rule short enough for an edge label; the target (what it does) always survives the cut. */
export function shortRule(rule: string): string {
  const text = rule.replace(/^-A \S+ /, '');
  if (text.length <= MAX_RULE_LENGTH) return text;
  const at = text.search(/(^| )-[jg] /);
  const target = at < 0 ? '' : text.slice(at).trim();
  const conditions = at < 0 ? text : text.slice(0, at);
  const room = Math.max(8, MAX_RULE_LENGTH - target.length - 2);
  return `${conditions.slice(0, room).trimEnd()}… ${target}`.trimEnd();
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

class GraphBuilder {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, { from: string; to: string; label: string[]; flows: string[]; decisive?: Outcome }>();

  node(id: string, kind: NodeKind, label: readonly string[], family: Family): string {
    if (!this.nodes.has(id)) this.nodes.set(id, { id, kind, label, family });
    return id;
  }

  edge(from: string, to: string, label: readonly string[], decisive?: Outcome, flow?: string): void {
    const key = `${from}\u0000${to}\u0000${label.join('\n')}\u0000${decisive ?? ''}`;
    let edge = this.edges.get(key);
    if (!edge) {
      edge = { from, to, label: [...label], flows: [], ...(decisive ? { decisive } : {}) };
      this.edges.set(key, edge);
    }
    if (flow && !edge.flows.includes(flow)) edge.flows.push(flow);
  }
}

function chainNode(b: GraphBuilder, family: Family, step: Pick<TraceStep, 'table' | 'chain'>): string {
  return b.node(nodeId(family, 'chain', step.table, step.chain), 'chain', [`${step.table} ${step.chain}`], family);
}

/** Steps of one built-in chain's visit (the chain and what it calls) are trivial when only its policy accepts. */
function trivialVisit(steps: readonly TraceStep[], start: number): boolean {
  for (let i = start; i < steps.length && steps[i]!.hook === steps[start]!.hook && steps[i]!.table === steps[start]!.table; i++) {
    if (steps[i]!.action !== 'policy-accept') return false;
  }
  return true;
}

/** The chain a `-j CHAIN` / `-g CHAIN` rule sends the packet to. */
function jumpTarget(rule: string): string | undefined {
  return [...rule.matchAll(/(?:^| )-[jg] (\S+)/g)].at(-1)?.[1];
}

/** Adds one walked flow: entry edge, jumps, the rewrite into the next hook, and the decisive edge to its outcome. */
function addPath(b: GraphBuilder, family: Family, entry: string, trace: Trace, outcomeNode: string, outcome: Outcome, flow: string): void {
  const decisive = decidingStep(trace);
  const steps = trace.steps.slice(0, decisive + 1);
  let at = entry;
  let pending: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const previous = steps[i - 1];
    const next = steps[i + 1];
    const newVisit = !previous || previous.hook !== step.hook || previous.table !== step.table;
    if (newVisit) {
      if (trivialVisit(steps, i) && i !== decisive) continue;
      const node = chainNode(b, family, step);
      b.edge(at, node, pending);
      pending = [];
      at = node;
    }
    const target = step.action === 'jump' || step.action === 'goto' ? jumpTarget(step.rule) : undefined;
    if (target) {
      // The walk records only matching rules: a chain where nothing matched leaves no step, but was still walked.
      const node = chainNode(b, family, { table: step.table, chain: target });
      b.edge(chainNode(b, family, step), node, [`line ${step.line}`]);
      at = next && next.table === step.table && next.hook === step.hook && next.chain === target ? node : chainNode(b, family, step);
    } else if ((step.action === 'return' || step.action === 'fall-off') && next && next.table === step.table && next.hook === step.hook) {
      at = chainNode(b, family, next);
    } else if (step.action === 'dnat' || step.action === 'redirect') {
      at = chainNode(b, family, step);
      pending = [`line ${step.line}: ${step.action.toUpperCase()}${step.rewrite ? ` → ${step.rewrite.replace(/^.*→ /, '')}` : ''}`];
    }
  }
  const deciding = steps[decisive];
  const from = deciding ? chainNode(b, family, deciding) : at;
  const label = deciding ? [deciding.line > 0 ? `line ${deciding.line}: ${shortRule(deciding.rule)}` : `${deciding.chain} ${deciding.rule}`] : [trace.reason];
  b.edge(from, outcomeNode, label, outcome, flow);
}

function familyTitle(family: Family): string {
  return family === 'ipv4' ? 'IPv4' : 'IPv6';
}

function addFamily(b: GraphBuilder, family: Family, sim: RulesetSimulator, options: GraphOptions): void {
  const configured = options.externalInterfaces && options.externalInterfaces.length > 0 ? options.externalInterfaces : undefined;
  const interfaces = candidateInterfaces(sim, configured);
  const localAddress = representativeLocalAddress(sim);
  const any = family === 'ipv4' ? '0.0.0.0' : '::';
  for (const p of sim.docker.published) {
    // Routed publications (no NAT) are reached at the container's own address and port.
    const routed = !p.dnatRule && p.via === 'routed';
    if (!p.dnatRule && !routed) continue;
    const published = routed ? `${p.proto} ${endpoint(p.container.address, p.container.port)} (routed)` : `${p.proto} ${endpoint(p.hostAddress ?? any, p.hostPort)}`;
    const container = b.node(nodeId(family, 'ct', p.proto, p.container.address, p.container.port), 'container',
      [`container ${endpoint(p.container.address, p.container.port)}/${p.proto}`, ...(p.bridge ? [`on ${p.bridge}`] : [])], family);
    const node = b.nodes.get(container)!;
    if (!node.label.includes(`published ${published}`)) b.nodes.set(container, { ...node, label: [...node.label, `published ${published}`] });
    for (const iface of interfaces) {
      const entry = b.node(nodeId(family, 'if', iface === OTHER_INTERFACE ? 'other' : iface), 'interface',
        [iface === OTHER_INTERFACE ? 'any other interface' : iface], family);
      const dst = routed ? p.container.address : p.hostAddress ?? localAddress;
      const dport = routed ? p.container.port : p.hostPort;
      const { classes } = reachableSources(sim, {
        proto: p.proto as L4Protocol, dst, dport, inInterface: iface,
        reached: (t) => t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host'),
      });
      // Sources that meet the same fate for the same reason take the same path: one witness each.
      const groups = new Map<string, AddressSet>();
      for (const cls of classes) {
        const key = `${cls.accepted}\u0000${cls.reason}`;
        groups.set(key, (groups.get(key) ?? AddressSet.empty(family)).union(cls.sources));
      }
      for (const [key, sources] of groups) {
        const accepted = key.startsWith('true');
        const trace = sim.trace({
          family, proto: p.proto as L4Protocol, src: sampleAddress(family, sources), dst, sport: 40000, dport, state: 'NEW',
          inInterface: iface === OTHER_INTERFACE ? OTHER_INTERFACE_NAME : iface,
        });
        const outcome: Outcome = trace.verdict === 'unknown' ? 'unknown' : accepted ? 'accept' : 'drop';
        const target = outcome === 'accept'
          ? (trace.reaches.kind === 'host' ? b.node(nodeId(family, 'host'), 'host', ['the host itself'], family) : container)
          : outcome === 'drop' ? b.node(nodeId(family, 'dropped'), 'drop', ['dropped'], family)
            : b.node(nodeId(family, 'unknown'), 'unknown', ['undecidable statically'], family);
        const via = iface === OTHER_INTERFACE ? 'any other interface' : iface;
        addPath(b, family, entry, trace, target, outcome, `${published} from ${sourcesText(family, sources.toCidrs())} via ${via}`);
      }
    }
  }
}

/** The graph of one host (its IPv4 and IPv6 rulesets side by side). */
export function buildGraph(host: Host, options: GraphOptions = {}): Graph {
  const b = new GraphBuilder();
  const families: Family[] = [];
  for (const view of host.views) {
    if (!isRulesetSimulator(view.simulator)) throw new Error('graph needs the built-in simulator');
    families.push(view.ruleset.family);
    addFamily(b, view.ruleset.family, view.simulator, options);
  }
  const edges: GraphEdge[] = [...b.edges.values()].map((e) => {
    const flows = e.flows.length > MAX_FLOWS_PER_EDGE
      ? [...e.flows.slice(0, MAX_FLOWS_PER_EDGE), `+${e.flows.length - MAX_FLOWS_PER_EDGE} more`]
      : e.flows;
    return { from: e.from, to: e.to, label: [...e.label, ...flows], ...(e.decisive ? { decisive: e.decisive } : {}) };
  });
  const nodes = [...b.nodes.values()].sort((x, y) => NODE_ORDER[x.kind] - NODE_ORDER[y.kind]);
  return { title: host.name, families, nodes, edges };
}

export { familyTitle };
