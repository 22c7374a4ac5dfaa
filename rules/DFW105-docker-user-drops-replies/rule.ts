// DFW105 docker-user-drops-replies: a DOCKER-USER DROP/REJECT that also hits
// the replies to connections the containers opened themselves. DOCKER-USER runs
// before Docker's own RELATED,ESTABLISHED accept (DOCKER-CT, or the per-bridge
// FORWARD rule before 28), so an allow-list without its own exemption drops the
// answers to the containers' DNS, HTTPS and package-mirror requests.
//
// Proof: a reply packet (conntrack ESTABLISHED, direction REPLY, already
// de-NATed to the container's address) arriving on an external interface,
// walked by the simulator, dropped by the rule.

import type { Rule } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { DockerBridge } from '../../src/model/docker-types.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import { iptablesCommand } from '../DFW101-DFW107-lib/commands.ts';
import {
  externalInterfaces, internetSources, packetText, pickAddress, replyToContainer, stepRule, type ExternalInterface,
} from '../DFW101-DFW107-lib/packets.ts';
import { asRulesetSimulator, chainOf, isAdminRule, isDropOrReject, reachableChains, whatIfSimulator } from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'dropsReplies';

/** What containers typically talk to: HTTPS and DNS. */
const REMOTE_SERVICES: readonly { proto: L4Protocol; port: number; what: string }[] = [
  { proto: 'tcp', port: 443, what: 'HTTPS request' },
  { proto: 'udp', port: 53, what: 'DNS query' },
];

interface Proof {
  readonly rule: Rule;
  readonly trace: Trace;
  readonly packet: string;
  readonly iface: ExternalInterface;
  readonly bridge: string;
  readonly service: string;
}

/** A container address on the bridge: a known container, else the subnet's first host after the gateway. */
function containerOn(view: RulesetView, bridge: DockerBridge): string | undefined {
  const known = view.docker.containers.find((c) => c.bridge === bridge.name);
  if (known) return known.address;
  const subnet = bridge.subnets[0];
  if (!subnet) return undefined;
  const family = view.ruleset.family;
  const set = AddressSet.cidr(family, subnet.address, subnet.prefixLength);
  const base = set.sample();
  return base === undefined ? undefined : pickAddress(family, AddressSet.range(family, base + 2n, base + 2n));
}

/** A remote internet address none of the DOCKER-USER rules names: "some server out there". */
function remoteAddress(view: RulesetView, userRules: readonly Rule[]): string | undefined {
  const family = view.ruleset.family;
  let remote = internetSources(family);
  for (const rule of userRules) {
    for (const a of [rule.source, rule.destination]) {
      if (a) remote = remote.subtract(AddressSet.fromMatch(family, { ...a, negated: false }));
    }
  }
  return pickAddress(family, remote) ?? pickAddress(family, internetSources(family));
}

function findProofs(view: RulesetView, settings: LintSettings): Map<Rule, Proof> {
  const { ruleset, docker } = view;
  const family = ruleset.family;
  const proofs = new Map<Rule, Proof>();
  const userChains = reachableChains(ruleset, 'filter', ['DOCKER-USER']);
  const userRules = ruleset.tables.find((t) => t.name === 'filter')?.chains
    .filter((c) => userChains.has(c.name)).flatMap((c) => c.rules) ?? [];
  const candidates = new Set(userRules.filter((r) => isDropOrReject(r) && isAdminRule(docker, r)));
  if (candidates.size === 0) return proofs;
  const remote = remoteAddress(view, userRules);
  if (remote === undefined) return proofs;
  // A reply to a masqueraded connection reaches raw PREROUTING still addressed to the host; conntrack restores the
  // container's address only after it. The walk starts from the restored packet, so Docker's raw direct-access drops
  // (keyed on container addresses) are left out: they never see such a reply.
  const sim = whatIfSimulator(view, settings, (table, chain) => (table === 'raw' ? chain.rules.filter((r) => !docker.dockerRules.has(r)) : undefined));
  // Only bridges whose containers can open connections out.
  const bridges = docker.bridges.filter((b) => !b.internal);
  for (const bridge of bridges) {
    const container = containerOn(view, bridge);
    if (container === undefined) continue;
    for (const iface of externalInterfaces(sim, settings, true)) {
      for (const service of REMOTE_SERVICES) {
        const packet = replyToContainer(family, service.proto, remote, service.port, container, iface.name);
        const trace = sim.trace(packet);
        if (trace.verdict !== 'drop' && trace.verdict !== 'reject') continue;
        const last = trace.steps[trace.steps.length - 1];
        const rule = last ? stepRule(ruleset, last) : undefined;
        if (!rule || !candidates.has(rule) || proofs.has(rule)) continue;
        proofs.set(rule, { rule, trace, packet: packetText(packet), iface, bridge: bridge.name, service: service.what });
      }
    }
  }
  return proofs;
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW105',
    name: 'docker-user-drops-replies',
    severity: 'warning',
    summary: 'A DOCKER-USER DROP/REJECT also drops the replies to connections the containers opened.',
    description:
      'DOCKER-USER sees every forwarded packet before Docker\'s own RELATED,ESTABLISHED accept. A rule such as '
      + '`-i eth0 -j DROP` meant for new connections from outside also drops the answers coming back on eth0 to '
      + 'connections the containers opened themselves (DNS lookups, HTTPS APIs, package mirrors), so the containers lose '
      + 'their outbound connectivity. This rule walks such a reply (conntrack state ESTABLISHED, direction REPLY) from each '
      + 'external interface to a container of every non-internal bridge and reports the DOCKER-USER rule that drops it. '
      + 'Put `-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN` at the top of DOCKER-USER.',
    tags: ['docker', 'connectivity'],
    messages: {
      dropsReplies:
        'This DOCKER-USER rule also {verb} replies to connections the containers opened: the reply to a container\'s {service} '
        + '({packet}, conntrack ESTABLISHED, direction REPLY) arriving on {interface} is {verbed} here, because no earlier rule exempts '
        + 'RELATED,ESTABLISHED traffic. Containers on {bridge} lose outbound connectivity. Insert '
        + '`-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN` at the top of DOCKER-USER.',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      if (!asRulesetSimulator(view.simulator) || !chainOf(view.ruleset, 'filter', 'DOCKER-USER')) continue;
      const cmd = iptablesCommand(view.ruleset.family);
      for (const proof of findProofs(view, context.settings).values()) {
        const reject = proof.rule.target?.kind === 'REJECT';
        context.report({
          at: proof.rule.span,
          messageId: 'dropsReplies',
          data: {
            verb: reject ? 'rejects' : 'drops',
            verbed: reject ? 'rejected' : 'dropped',
            service: proof.service,
            packet: proof.packet,
            interface: proof.iface.label,
            bridge: proof.bridge,
          },
          path: proof.trace.steps,
          fix: `${cmd} -I DOCKER-USER 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
        });
      }
    }
  },
});
