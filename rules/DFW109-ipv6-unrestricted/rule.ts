// DFW109 ipv6-unrestricted: the IPv4 ruleset limits who may reach a published
// port, but the same host's IPv6 ruleset lets every IPv6 address in. Docker
// serves `-p 8080:80` on [::]:8080 too: by DNAT when the container has an IPv6
// address and ip6tables is on, otherwise by docker-proxy on the host's INPUT
// path. Both families are walked with the simulator, interface by interface.

import type { Family, Span } from '../../grammar/ast.ts';
import { defineRule, type Host, type LintSettings, type Report, type RulesetView } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import { boundOnAllAddresses, ipv6Publication, proxiedOverIpv6 } from '../../src/model/docker.ts';
import { compareCodeUnits } from '../../src/model/order.ts';
import type { RulesetSimulator } from '../../src/sim/index.ts';
import { candidateInterfaces, OTHER_INTERFACE, reachableSources, reachedUnlessBlocklisted, representativeLocalAddress } from '../../src/sim/exposure.ts';
import type { L4Protocol, Trace } from '../../src/sim/types.ts';
import {
  acceptingStep, asRulesetSimulator, cidrList, interfaceLabels, iptablesCommand, packetInterface, packetText, publicSources, sampleSource, stepSpan,
} from '../DFW108-DFW114-lib/trace.ts';

type MessageId = 'dnat' | 'proxy' | 'noRuleset';

interface Side {
  readonly view: RulesetView;
  readonly sim: RulesetSimulator;
  readonly localAddress: string;
}

const reachedAnywhere = (t: Pick<Trace, 'verdict' | 'reaches'>) => t.verdict === 'accept' && (t.reaches.kind === 'container' || t.reaches.kind === 'host');

function reachable(side: Side, proto: L4Protocol, dst: string, dport: number, inInterface: string): AddressSet {
  const family = side.view.ruleset.family;
  const { classes } = reachableSources(side.sim, { proto, dst, dport, inInterface, reached: reachedAnywhere });
  // A blocklist keeps no one out in the sense of this rule: IPv4 with only a blocklist does not
  // restrict the port, and IPv6 with only a blocklist is open.
  return classes.filter(reachedUnlessBlocklisted).reduce((acc, c) => acc.union(c.sources), AddressSet.empty(family));
}

function side(view: RulesetView | undefined): Side | undefined {
  const sim = view && asRulesetSimulator(view.simulator);
  return view && sim ? { view, sim, localAddress: representativeLocalAddress(sim) } : undefined;
}

function rulesetSpan(view: RulesetView): Span {
  return { file: view.ruleset.file, line: view.ruleset.startLine, column: 1, endColumn: 1 };
}

function fixFor(v6: Side, viaDnat: boolean, proto: string, port: number, interfaces: readonly string[]): string {
  const cmd = iptablesCommand('ipv6');
  const named = interfaces.filter((i) => i !== OTHER_INTERFACE);
  const ifaces = named.length > 0 && named.length === interfaces.length ? named.map((i) => `-i ${i} `) : [''];
  if (viaDnat) {
    const chain = v6.view.docker.dockerUser.exists ? 'DOCKER-USER' : 'FORWARD';
    return ifaces.map((i) => `${cmd} -I ${chain} 1 ${i}-p ${proto} -m conntrack --ctstate DNAT --ctorigdstport ${port} --ctdir ORIGINAL -j DROP`).join('\n');
  }
  return ifaces.map((i) => `${cmd} -I INPUT 1 ${i}-p ${proto} -m ${proto} --dport ${port} -m conntrack --ctstate NEW -j DROP`).join('\n');
}

function checkHost(host: Host, settings: LintSettings, report: (r: Report<MessageId>) => void): void {
  const v4 = side(host.ipv4);
  const v6 = side(host.ipv6);
  if (!v4 || !v6) return;
  const configured = settings.externalInterfaces.length > 0 ? settings.externalInterfaces : undefined;
  const interfaces = [...new Set([...candidateInterfaces(v4.sim, configured), ...candidateInterfaces(v6.sim, configured)])]
    .sort((a, b) => (a === OTHER_INTERFACE ? 1 : b === OTHER_INTERFACE ? -1 : compareCodeUnits(a, b)));
  const public4 = publicSources('ipv4');
  const public6 = publicSources('ipv6');
  const emptyV6 = v6.view.ruleset.tables.length === 0;
  const seen = new Set<string>();
  // An IPv4-only container is served on [::] by docker-proxy; with the proxy off there is no IPv6
  // listener, and Swarm's routing mesh (ingress) publishes over IPv4 only (see src/model/docker/proxy.ts).
  const proxied = new Set(proxiedOverIpv6(v4.view.docker, v6.view.docker));

  for (const port of v4.view.docker.published) {
    if (!boundOnAllAddresses(port)) continue;
    const key = `${port.proto}/${port.hostPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const publication6 = ipv6Publication(v6.view.docker, port);
    if (!publication6 && !proxied.has(port)) continue;
    const proto = port.proto as L4Protocol;
    const open: string[] = [];
    let proof: { trace: Trace; packet: string; v4reason: string; v4admits: AddressSet } | undefined;
    for (const inInterface of interfaces) {
      const admitted4 = reachable(v4, proto, v4.localAddress, port.hostPort, inInterface).intersect(public4);
      const blocked4 = public4.subtract(admitted4);
      if (blocked4.isEmpty()) continue;
      const admitted6 = reachable(v6, proto, v6.localAddress, port.hostPort, inInterface);
      if (!public6.subtract(admitted6).isEmpty()) continue;
      open.push(inInterface);
      if (proof) continue;
      const src6 = sampleSource('ipv6', public6)!;
      const src4 = sampleSource('ipv4', blocked4)!;
      const trace4 = v4.sim.trace({ family: 'ipv4', proto, src: src4, dst: v4.localAddress, sport: 40000, dport: port.hostPort, inInterface: packetInterface(inInterface), state: 'NEW' });
      const trace6 = v6.sim.trace({ family: 'ipv6', proto, src: src6, dst: v6.localAddress, sport: 40000, dport: port.hostPort, inInterface: packetInterface(inInterface), state: 'NEW' });
      proof = { trace: trace6, packet: packetText('ipv6', proto, src6, v6.localAddress, port.hostPort), v4reason: `${packetText('ipv4', proto, src4, v4.localAddress, port.hostPort)} is ${trace4.reason}`, v4admits: admitted4 };
    }
    if (!proof || open.length === 0) continue;
    const accepting = acceptingStep(proof.trace, publication6 ? 'FORWARD' : 'INPUT');
    const at = emptyV6 ? rulesetSpan(v6.view)
      : publication6?.dnatRule?.span ?? (accepting && stepSpan(v6.view.ruleset, accepting)) ?? rulesetSpan(v6.view);
    const iface = interfaceLabels(open, interfaces);
    report({
      at,
      // Several ports are often reported at one place (the INPUT policy): each keeps its own fingerprint.
      identity: key,
      messageId: emptyV6 ? 'noRuleset' : publication6 ? 'dnat' : 'proxy',
      data: {
        port: key,
        hostPort: port.hostPort,
        interfaces: iface,
        v4admits: proof.v4admits.isEmpty() ? 'no public address' : `only ${cidrList(proof.v4admits.toCidrs())}`,
        v4reason: proof.v4reason,
        packet: proof.packet,
        reason: proof.trace.reason,
        dnatLine: publication6?.dnatRule ? String(publication6.dnatRule.span.line) : '',
        container: `${port.container.address}:${port.container.port}`,
      },
      path: proof.trace.steps,
      fix: fixFor(v6, publication6 !== undefined, port.proto, port.hostPort, open),
    });
  }
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW109',
    name: 'ipv6-unrestricted',
    severity: 'error',
    summary: 'IPv4 restricts who may reach a published port, but the same host\'s IPv6 ruleset lets every IPv6 address reach it.',
    description:
      'Since Docker 20.10 `-p 8080:80` binds both 0.0.0.0:8080 and [::]:8080. When the container has an IPv6 address and '
      + 'ip6tables is enabled, Docker DNATs the IPv6 port through ip6tables, where only the ip6tables DOCKER-USER can restrict '
      + 'it; otherwise docker-proxy accepts it on the host and the ip6tables INPUT chain decides. An allow-list written for '
      + 'IPv4 (DOCKER-USER, INPUT) does nothing for IPv6, and an empty ip6tables dump means no IPv6 filtering at all. The rule '
      + 'compares, per external interface, who reaches each published port over IPv4 and over IPv6 (both walked by the '
      + 'simulator) and reports ports IPv4 restricts while every IPv6 address gets in. It needs both dumps of the host: one '
      + 'stream with iptables-save and ip6tables-save, or two files paired by name (host.v4.txt / host.v6.txt).',
    tags: ['docker', 'security', 'ipv6'],
    messages: {
      dnat:
        'Published port {port} is restricted over IPv4 on {interfaces} (IPv4 admits {v4admits}: {v4reason}) but open to every '
        + 'IPv6 address: Docker also publishes it over IPv6 (DNAT on line {dnatLine} to the container\'s IPv6 address) and '
        + 'nothing in ip6tables restricts it — {packet} is {reason}. Add the IPv6 counterpart of your IPv4 rules to the '
        + 'ip6tables DOCKER-USER chain.',
      proxy:
        'Published port {port} is restricted over IPv4 on {interfaces} (IPv4 admits {v4admits}: {v4reason}) but open to every '
        + 'IPv6 address: Docker wrote no IPv6 DNAT for it (the container {container} has no IPv6 address, or ip6tables is off), '
        + 'so docker-proxy serves [::]:{hostPort} on the host and '
        + 'the ip6tables INPUT chain accepts it — {packet} is {reason}. Restrict it in ip6tables INPUT, or publish on an IPv4 '
        + 'address only (`-p 0.0.0.0:…`).',
      noRuleset:
        'Published port {port} is restricted over IPv4 on {interfaces} (IPv4 admits {v4admits}: {v4reason}) but this host has '
        + 'no ip6tables rules at all: docker-proxy serves [::]:{hostPort} to every IPv6 address — '
        + '{packet} is {reason}. Load an ip6tables ruleset that mirrors the IPv4 one, or publish on an IPv4 address only (`-p 0.0.0.0:…`).',
    },
  },
  check(context) {
    checkHost(context.host, context.settings, (r) => context.report(r));
  },
});
