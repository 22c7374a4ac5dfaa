// DFW106 published-port-open-to-world: a published port that every internet
// source can open connections to on an external interface, with no rule of
// the administrator's letting it in on purpose and no entry in the config's
// intendedPublicPorts. The proof is the simulator's exact source classes for a
// new connection to the port (the question exposure() asks), and one walk.

import type { Family, Rule } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { DockerModel, PublishedPort } from '../../src/model/docker-types.ts';
import { conditionsText, mergeConditions, reachableSources, reachedUnlessBlocklisted } from '../../src/sim/exposure.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import type { ExposureCondition, L4Protocol, Trace } from '../../src/sim/types.ts';
import { ensureDockerUser, iptablesCommand, originalDestinationSpec, spec } from '../DFW101-DFW107-lib/commands.ts';
import {
  decisionOnPath, externalInterfaces, internetSources, isLoopback, newConnection, pathSummary,
  pickAddress, publishedDestination, publishedText, sourcesText, type ExternalInterface,
} from '../DFW101-DFW107-lib/packets.ts';
import { asRulesetSimulator, isToolOwnedChain } from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'openToWorld' | 'openToWorldButListed';

/** `tcp/443`, `443`, `udp/10000-10003`: does the entry cover this published port? */
export function isIntendedPublic(entries: readonly string[], proto: string, port: number): boolean {
  return entries.some((entry) => {
    const m = /^(?:(tcp|udp|sctp)\/)?(\d{1,5})(?:-(\d{1,5}))?$/i.exec(entry.trim());
    if (!m) return false;
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    return (m[1] === undefined || m[1].toLowerCase() === proto) && from <= port && port <= to;
  });
}

/**
 * A rule whose ACCEPT (or RETURN out of DOCKER-USER) is the administrator's
 * decision: their own rules, and ufw's user chains (`ufw route allow`).
 */
function isDecision(docker: DockerModel, rule: Rule): boolean {
  if (docker.dockerRules.has(rule)) return false;
  return !isToolOwnedChain(rule.chain) || /^ufw6?-user-/.test(rule.chain);
}

interface Opening {
  readonly iface: ExternalInterface;
  /** Every source that reaches the port on this interface, as CIDRs. */
  readonly sources: AddressSet;
  /** A new connection from an internet source that no admin rule let in. */
  readonly trace: Trace;
  /**
   * Undecidable rules that may turn some sources away (a blocklist ipset, a `recent` guard):
   * the port is open to every internet source they do not stop. Empty: to every one.
   */
  readonly unless: readonly ExposureCondition[];
}

/** The port's exposure on one interface, when every internet source reaches it and some without an admin ACCEPT. */
function openingOn(sim: RulesetSimulator, docker: DockerModel, port: PublishedPort, iface: ExternalInterface): Opening | undefined {
  const family = sim.host.family;
  const routed = port.via === 'routed';
  const dst = routed ? port.container.address : publishedDestination(sim, port);
  const dport = routed ? port.container.port : port.hostPort;
  const proto = port.proto as L4Protocol;
  const world = internetSources(family);
  // One internet source turned away already disproves "open to every internet source"
  // (unknown: an ipset or `recent` match decides, which the classes below tell apart).
  const probe = pickAddress(family, world, [dst]);
  const probeVerdict = probe === undefined ? undefined : sim.trace(newConnection(family, proto, probe, dst, dport, iface.name)).verdict;
  if (probeVerdict !== 'accept' && probeVerdict !== 'unknown') return undefined;
  const { classes } = reachableSources(sim, {
    proto, dst, dport, inInterface: iface.name,
    reached: (t) => t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host'),
  });
  // A blocklist in front of an open port leaves it open to the internet; an allow-list does not.
  const opens = classes.filter(reachedUnlessBlocklisted);
  const reached = opens.reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
  if (!world.subtract(reached).isEmpty()) return undefined;
  const unless = mergeConditions(opens.filter((c) => !c.accepted).map((c) => c.conditions));
  for (const c of opens) {
    const src = pickAddress(family, c.sources.intersect(world), [dst]);
    if (src === undefined) continue;
    const trace = sim.trace(newConnection(family, proto, src, dst, dport, iface.name));
    if (trace.verdict === 'drop' || trace.verdict === 'reject') continue;
    if (decisionOnPath(sim.compiled.ruleset, trace, (r) => isDecision(docker, r))) continue;
    return { iface, sources: reached, trace, unless };
  }
  return undefined;
}

function fixFor(family: Family, docker: DockerModel, port: PublishedPort, openings: readonly Opening[]): string {
  const cmd = iptablesCommand(family);
  const lines = [...ensureDockerUser(family, docker)];
  for (const { iface } of openings) {
    // "Any interface" still spares the container's own bridge (hairpin traffic to its own published port).
    const where = iface.flag ?? (port.bridge ? `! -i ${port.bridge}` : undefined);
    lines.push(`${cmd} -I DOCKER-USER ${spec(where, originalDestinationSpec(family, port), '-j DROP')}`);
  }
  return lines.join('\n');
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW106',
    name: 'published-port-open-to-world',
    severity: 'warning',
    summary: 'A published container port that every internet source can reach, and that nothing declares public on purpose.',
    description:
      'Docker publishes a port by DNAT in nat PREROUTING and accepts the forwarded packets in its own filter chains, '
      + 'so INPUT rules and default-deny policies never apply to it. This rule asks the simulator which sources can open '
      + 'a new connection to each published port on each external interface; when that is every internet address and '
      + 'no administrator rule accepts the port explicitly, the port is open to the world by accident as often as on '
      + 'purpose. Declare intended public ports in the config (intendedPublicPorts), or restrict the port in DOCKER-USER '
      + 'with -m conntrack --ctorigdstport.',
    tags: ['docker', 'security', 'exposure'],
    messages: {
      openToWorldButListed:
        '{published} is open to the internet on {interfaces} ({sources} can connect) except sources that {conditions} may turn away: {path}. '
        + 'A blocklist or a brute-force guard does not make a port private, and no rule of yours accepts it on purpose. '
        + 'If it is meant to be public, list "{proto}/{hostPort}" in intendedPublicPorts; otherwise restrict it '
        + 'in DOCKER-USER (allowed sources with -j RETURN above the DROP).',
      openToWorld:
        '{published} is open to the internet on {interfaces} ({sources} can connect): {path}. '
        + 'No rule of yours accepts it on purpose, and Docker DNATs the packets before any INPUT rule or default-deny policy '
        + 'could see them. If it is meant to be public, list "{proto}/{hostPort}" in intendedPublicPorts; otherwise restrict it '
        + 'in DOCKER-USER (allowed sources with -j RETURN above the DROP).',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const sim = asRulesetSimulator(view.simulator);
      if (!sim) continue;
      const family = view.ruleset.family;
      const interfaces = externalInterfaces(sim, context.settings);
      for (const port of view.docker.published) {
        const at = port.dnatRule ?? port.acceptRule;
        if (!at) continue;
        if (port.hostAddress && isLoopback(family, port.hostAddress)) continue;
        if (isIntendedPublic(context.settings.intendedPublicPorts, port.proto, port.hostPort)) continue;
        const openings = interfaces
          .map((iface) => openingOn(sim, view.docker, port, iface))
          .filter((o): o is Opening => o !== undefined);
        const first = openings[0];
        if (!first) continue;
        const unless = mergeConditions(openings.map((o) => o.unless));
        context.report({
          at: at.span,
          messageId: unless.length > 0 ? 'openToWorldButListed' : 'openToWorld',
          data: {
            conditions: conditionsText(unless),
            published: publishedText(family, port),
            interfaces: openings.map((o) => o.iface.label).join(', '),
            sources: sourcesText(openings.reduce((acc, o) => acc.union(o.sources), AddressSet.empty(family))),
            path: pathSummary(first.trace),
            proto: port.proto,
            hostPort: port.hostPort,
          },
          path: first.trace.steps,
          fix: fixFor(family, view.docker, port, openings),
        });
      }
    }
  },
});
