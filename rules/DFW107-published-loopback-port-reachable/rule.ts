// DFW107 published-loopback-port-reachable: a port published on 127.0.0.1 (or on
// one specific host address) that other hosts can still reach. Docker ≤ 27 binds
// only the DNAT rule to the host address; its filter ACCEPT is keyed on the
// container's address and port, so a neighbour that routes the container's
// address via this host gets in (moby#45610), and for 127.0.0.1 a neighbour can
// even send frames addressed to 127.0.0.1 that the DNAT rule takes (moby#41872).
// Docker 28 adds raw-table drops for both; hosts without them are reported.
//
// Proof: the simulator's walk of a new connection from an external interface to
// the container's address and port (and, for 127.0.0.1, to 127.0.0.1:hostPort).

import type { Family } from '../../grammar/ast.ts';
import { defineRule, type LintSettings, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { PublishedPort } from '../../src/model/docker-types.ts';
import { reachableSources } from '../../src/sim/exposure.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import { iptablesCommand } from '../DFW101-DFW107-lib/commands.ts';
import {
  externalInterfaces, isLoopback, newConnection, packetText, pathSummary, pickAddress, publishedText, sourcesText,
  type ExternalInterface,
} from '../DFW101-DFW107-lib/packets.ts';
import { asRulesetSimulator } from '../DFW101-DFW107-lib/ruleset.ts';

type MessageId = 'loopbackDirect' | 'loopbackCrafted' | 'hostAddressDirect';

interface Reach {
  readonly iface: ExternalInterface;
  readonly sources: AddressSet;
  readonly trace: Trace;
  readonly packet: string;
}

/** Who, on each external interface, opens a connection to dst:dport that reaches the container. */
function reachOn(sim: RulesetSimulator, port: PublishedPort, dst: string, dport: number, interfaces: readonly ExternalInterface[]): Reach[] {
  const family = sim.host.family;
  const found: Reach[] = [];
  const proto = port.proto as L4Protocol;
  for (const iface of interfaces) {
    const { classes } = reachableSources(sim, {
      proto, dst, dport, inInterface: iface.name,
      reached: (t) => t.verdict === 'accept' && t.reaches.kind === 'container' && t.reaches.address === port.container.address,
    });
    const reached = classes.filter((c) => c.accepted).reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
    const src = pickAddress(family, reached, [dst]);
    if (src === undefined) continue;
    const packet = newConnection(family, proto, src, dst, dport, iface.name);
    const trace = sim.trace(packet);
    if (trace.verdict !== 'accept' || trace.reaches.kind !== 'container') continue;
    found.push({ iface, sources: reached, trace, packet: packetText(packet) });
  }
  return found;
}

function hostMask(family: Family): number {
  return family === 'ipv6' ? 128 : 32;
}

/** What Docker 28 writes in raw PREROUTING: drop direct access to the container port, and loopback-addressed frames from outside. */
function fixFor(family: Family, port: PublishedPort, direct: boolean, crafted: boolean): string {
  const cmd = `${iptablesCommand(family)} -t raw -I PREROUTING`;
  const lines: string[] = [];
  const l4 = `-p ${port.proto} -m ${port.proto}`;
  if (direct) lines.push(`${cmd} -d ${port.container.address}/${hostMask(family)} ! -i ${port.bridge} ${l4} --dport ${port.container.port} -j DROP`);
  if (crafted) lines.push(`${cmd} -d ${port.hostAddress}/${hostMask(family)} ! -i lo ${l4} --dport ${port.hostPort} -j DROP`);
  return lines.join('\n');
}

function checkPort(view: RulesetView, sim: RulesetSimulator, settings: LintSettings, port: PublishedPort) {
  const family = view.ruleset.family;
  const interfaces = externalInterfaces(sim, settings);
  const loopback = port.hostAddress !== undefined && isLoopback(family, port.hostAddress);
  const direct = reachOn(sim, port, port.container.address, port.container.port, interfaces);
  // IPv6 never accepts ::1 from outside (the kernel drops it as a martian); IPv4's 127/8 is taken by the DNAT first.
  const crafted = loopback && family === 'ipv4' ? reachOn(sim, port, port.hostAddress!, port.hostPort, interfaces) : [];
  return { loopback, direct, crafted };
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW107',
    name: 'published-loopback-port-reachable',
    severity: 'warning',
    summary: 'A port published on 127.0.0.1 (or on one host address) that other hosts can still reach.',
    description:
      'Publishing with `-p 127.0.0.1:5432:5432` only binds the DNAT rule to 127.0.0.1. Up to Docker 27 the filter ACCEPT for '
      + 'the published port is keyed on the container\'s address and port alone, so any neighbour that routes the container '
      + 'subnet via this host reaches the container directly (moby#45610), and a neighbour on the same link can send frames '
      + 'addressed to 127.0.0.1 that the DNAT rule takes (moby#41872). Docker 28 adds raw PREROUTING drops for both. This '
      + 'rule walks new connections from each external interface to the container address and, for loopback bindings, to '
      + '127.0.0.1:hostPort, and reports the publication when one reaches the container.',
    tags: ['docker', 'security', 'exposure'],
    messages: {
      loopbackDirect:
        '{published} is published on {hostAddress} only, yet hosts on {interfaces} reach the container directly ({sources}): '
        + '{packet}: {path}. Docker before 28 accepts forwarded packets by container address and port alone, so a neighbour '
        + 'that routes {container} via this host gets in (moby#45610).{crafted} Drop direct access in raw PREROUTING as '
        + 'Docker 28 does, or upgrade Docker.',
      loopbackCrafted:
        '{published} is published on {hostAddress} only, yet a neighbour on {interfaces} can send packets addressed to '
        + '{hostAddress} that the DNAT rule forwards to the container (moby#41872): {packet}: {path}. Drop such packets in raw '
        + 'PREROUTING as Docker 28 does, or upgrade Docker.',
      hostAddressDirect:
        '{published} is published on the host address {hostAddress} only, yet hosts on {interfaces} reach the container '
        + 'directly ({sources}): {packet}: {path}. Docker accepts forwarded packets by container address and port alone, so a '
        + 'neighbour that routes {container} via this host gets in without using {hostAddress} (moby#45610). Drop direct access '
        + 'in raw PREROUTING.',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const sim = asRulesetSimulator(view.simulator);
      if (!sim) continue;
      const family = view.ruleset.family;
      for (const port of view.docker.published) {
        if (!port.dnatRule || !port.hostAddress || port.via === 'routed' || !port.bridge) continue;
        // nat-unprotected and routed networks are open to direct routing by design: DFW108 reports the whole bridge.
        const mode = view.docker.bridges.find((b) => b.name === port.bridge)?.gatewayMode;
        if (mode !== undefined && mode !== 'nat') continue;
        const { loopback, direct, crafted } = checkPort(view, sim, context.settings, port);
        const proof = direct[0] ?? crafted[0];
        if (!proof) continue;
        const messageId: MessageId = !loopback ? 'hostAddressDirect' : direct.length > 0 ? 'loopbackDirect' : 'loopbackCrafted';
        const shown = direct.length > 0 ? direct : crafted;
        context.report({
          at: port.dnatRule.span,
          messageId,
          data: {
            published: publishedText(family, port),
            hostAddress: port.hostAddress,
            interfaces: shown.map((r) => r.iface.label).join(', '),
            sources: sourcesText(shown.reduce((acc, o) => acc.union(o.sources), AddressSet.empty(family))),
            packet: proof.packet,
            path: pathSummary(proof.trace),
            container: port.container.address,
            crafted: crafted.length > 0
              ? ` Packets addressed to ${port.hostAddress} from ${crafted.map((r) => r.iface.label).join(', ')} reach it too (moby#41872).`
              : '',
          },
          path: proof.trace.steps,
          fix: fixFor(family, port, direct.length > 0, crafted.length > 0),
        });
      }
    }
  },
});
