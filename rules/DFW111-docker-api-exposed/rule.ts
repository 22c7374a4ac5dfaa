// DFW111 docker-api-exposed: INPUT lets the Docker API (2375/2376) or Swarm's
// control ports (2377/tcp, 7946/tcp+udp, 4789/udp) in from public sources.
// Found by walking new connections from each external interface to a host
// address as the kernel would, over the exact source classes the ruleset tells apart.

import type { Family, Span } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type Report, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import { candidateInterfaces, reachableSources, representativeLocalAddress } from '../../src/sim/exposure.ts';
import type { L4Protocol, TraceStep } from '../../src/sim/types.ts';
import {
  acceptingStep, asRulesetSimulator, cidrList, cidrsOf, interfaceLabels, iptablesCommand, namesDestinationPort,
  packetInterface, packetText, PRIVATE_AND_SPECIAL, PRIVATE_RANGES, sampleSource, stepRule, stepSpan,
} from '../DFW108-DFW114-lib/trace.ts';

type MessageId = 'api' | 'swarm';

interface ControlPort {
  readonly proto: L4Protocol;
  readonly port: number;
  readonly kind: MessageId;
  readonly what: string;
}

const CONTROL_PORTS: readonly ControlPort[] = [
  { proto: 'tcp', port: 2375, kind: 'api', what: 'the Docker Engine API without TLS: no authentication, and API access is root on this host' },
  { proto: 'tcp', port: 2376, kind: 'api', what: 'the Docker Engine API over TLS: root on this host for any client certificate the daemon trusts' },
  { proto: 'tcp', port: 2377, kind: 'swarm', what: 'cluster management (node joins, the Raft store with secrets and configs)' },
  { proto: 'tcp', port: 7946, kind: 'swarm', what: 'node gossip' },
  { proto: 'udp', port: 7946, kind: 'swarm', what: 'node gossip' },
  { proto: 'udp', port: 4789, kind: 'swarm', what: 'overlay data (VXLAN: unencrypted overlays take injected packets from anyone who can send here)' },
];

interface Exposure {
  readonly at: Span;
  readonly kind: MessageId;
  readonly ports: ControlPort[];
  readonly interfaces: string[];
  sources: AddressSet;
  readonly path: readonly TraceStep[];
  readonly packet: string;
}

function describeSources(family: Family, exposed: AddressSet, outside: AddressSet): string {
  if (exposed.equals(outside)) return family === 'ipv4' ? 'every public address (0.0.0.0/0)' : 'every public address (::/0)';
  return cidrList(exposed.toCidrs());
}

function fixFor(family: Family, ports: readonly ControlPort[], keepOpen: ReadonlyMap<ControlPort, AddressSet>): string {
  const cmd = iptablesCommand(family);
  const lines: string[] = [];
  for (const control of ports) {
    const match = `-p ${control.proto} -m ${control.proto} --dport ${control.port}`;
    // Each insert lands at the top, so the ACCEPTs for the sources that may stay end up above the DROP.
    lines.push(`${cmd} -I INPUT 1 ${match} -j DROP`);
    for (const cidr of (keepOpen.get(control)?.toCidrs() ?? []).reverse()) lines.push(`${cmd} -I INPUT 1 -s ${cidr} ${match} -j ACCEPT`);
  }
  return lines.join('\n');
}

function checkView(view: RulesetView, settings: LintSettings, trusted: readonly string[], report: (r: Report<MessageId>) => void): void {
  const sim = asRulesetSimulator(view.simulator);
  if (!sim || view.ruleset.tables.length === 0) return;
  const family = view.ruleset.family;
  const trustedHere = cidrsOf(family, trusted);
  const outside = AddressSet.fromCidrs(family, [...PRIVATE_AND_SPECIAL[family], ...trustedHere]).complement();
  const keepable = AddressSet.fromCidrs(family, [...PRIVATE_RANGES[family], ...trustedHere]);
  const interfaces = candidateInterfaces(sim, settings.externalInterfaces.length > 0 ? settings.externalInterfaces : undefined);
  const dst = representativeLocalAddress(sim);

  const exposures = new Map<string, Exposure>();
  const keepOpen = new Map<ControlPort, AddressSet>();
  for (const control of CONTROL_PORTS) {
    let reachable = AddressSet.empty(family);
    for (const inInterface of interfaces) {
      const { classes } = reachableSources(sim, {
        proto: control.proto, dst, dport: control.port, inInterface,
        reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'host',
      });
      for (const cls of classes) {
        if (!cls.accepted) continue;
        reachable = reachable.union(cls.sources);
        const exposed = cls.sources.intersect(outside);
        const src = sampleSource(family, exposed);
        if (exposed.isEmpty() || !src) continue;
        const trace = sim.trace({ family, proto: control.proto, src, dst, sport: 40000, dport: control.port, inInterface: packetInterface(inInterface), state: 'NEW' });
        const step = acceptingStep(trace, 'INPUT');
        if (!step) continue;
        // Something must listen: a rule naming the port says the admin opened it on purpose, and a
        // Swarm node always listens on its control ports. A blanket ACCEPT proves neither (IPT210's business).
        const rule = stepRule(view.ruleset, step);
        const listening = (rule !== undefined && namesDestinationPort(rule, control.proto, control.port)) || (control.kind === 'swarm' && view.docker.swarm);
        const at = stepSpan(view.ruleset, step);
        if (!listening || !at) continue;
        const key = `${at.file}:${at.line}:${control.kind}`;
        const known = exposures.get(key);
        if (known) {
          known.sources = known.sources.union(exposed);
          if (!known.ports.includes(control)) known.ports.push(control);
          if (!known.interfaces.includes(inInterface)) known.interfaces.push(inInterface);
        } else {
          exposures.set(key, {
            at, kind: control.kind, ports: [control], interfaces: [inInterface], sources: exposed, path: trace.steps,
            packet: packetText(family, control.proto, src, dst, control.port),
          });
        }
      }
    }
    keepOpen.set(control, reachable.intersect(keepable));
  }
  for (const exposure of exposures.values()) {
    const whats = [...new Set(exposure.ports.map((p) => p.what))];
    report({
      at: exposure.at,
      messageId: exposure.kind,
      data: {
        ports: exposure.ports.map((p) => `${p.proto}/${p.port}`).join(', '),
        what: whats.join('; '),
        sources: describeSources(family, exposure.sources, outside),
        interfaces: interfaceLabels(exposure.interfaces, interfaces),
        packet: exposure.packet,
        them: exposure.ports.length > 1 ? 'them' : 'it',
      },
      path: exposure.path,
      fix: fixFor(family, exposure.ports, keepOpen),
    });
  }
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW111',
    name: 'docker-api-exposed',
    severity: 'error',
    summary: "INPUT accepts the Docker API (2375/2376) or Swarm's control ports (2377, 7946, 4789/udp) from public sources.",
    description:
      'Whoever reaches the Docker Engine API controls the host (`docker run --privileged -v /:/host` is root). Port 2375 has no '
      + 'authentication; 2376 relies on TLS client certificates. Swarm managers listen on 2377/tcp, every node on 7946/tcp+udp and '
      + '4789/udp (VXLAN, unauthenticated unless the overlay is encrypted). Docker writes no filter rules for these ports: INPUT '
      + 'alone decides. The rule walks new connections from each external interface to a host address and reports the ACCEPT '
      + 'that lets in any source outside private, loopback, link-local and reserved ranges (and the trustedSources option). The '
      + 'accepting rule must name the port, or the host must be a Swarm node: a blanket ACCEPT does not prove that anything listens.',
    tags: ['docker', 'security'],
    options: {
      type: 'object',
      properties: {
        trustedSources: {
          type: 'array',
          items: { type: 'string' },
          description: 'Public CIDRs (IPv4 or IPv6) that may reach these ports, e.g. a CI runner or the other Swarm nodes.',
        },
      },
      additionalProperties: false,
    },
    defaultOptions: { trustedSources: [] },
    messages: {
      api:
        'INPUT accepts {ports} — {what} — from {sources} on {interfaces} ({packet} is accepted here). Use the unix socket '
        + 'over SSH (`DOCKER_HOST=ssh://user@host`) or allow only trusted addresses.',
      swarm:
        'INPUT accepts Swarm\'s {ports} — {what} — from {sources} on {interfaces} ({packet} is accepted here). Allow {them} only from '
        + 'the other Swarm nodes.',
    },
  },
  check(context) {
    const trusted = (context.options.trustedSources as readonly string[] | undefined) ?? [];
    for (const view of context.host.views) checkView(view, context.settings, trusted, (r) => context.report(r));
  },
});
