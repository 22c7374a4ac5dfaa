// DFW114 docker-chains-missing: the dump shows Docker's bridges (interfaces,
// MASQUERADE of their subnets, DNAT leftovers, a stale DOCKER-USER) but none of
// the chains Docker's iptables backend writes. Then Docker is not filtering
// here: `iptables: false`, the nftables backend (Docker 29), or a flush.

import type { Family, Rule, Ruleset, Span } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import type { DockerModel } from '../../src/model/docker-types.ts';

type MessageId = 'missing' | 'nftables';

/**
 * docker0's default subnet. Docker's other default pools (172.18–31/16, 192.168/16 in /20s) are
 * everyday LAN and VPN ranges too, so a MASQUERADE of those alone is not evidence of Docker.
 */
const DOCKER_DEFAULT_BRIDGE: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['172.17.0.0/16'],
  ipv6: [],
};

interface Evidence {
  readonly at: Span;
  readonly what: string;
}

function interfaceEvidence(rule: Rule, bridges: ReadonlySet<string>): string | undefined {
  for (const i of [rule.inInterface, rule.outInterface]) {
    if (i && !i.wildcard && bridges.has(i.name)) return `${rule.chain} rule names ${i.name}`;
  }
  return undefined;
}

function natEvidence(family: Family, rule: Rule): string | undefined {
  if (rule.table !== 'nat' || rule.chain !== 'POSTROUTING') return undefined;
  if (rule.target?.kind !== 'MASQUERADE' && rule.target?.kind !== 'SNAT') return undefined;
  if (!rule.source || rule.source.negated || rule.source.prefixLength < 0) return undefined;
  const pool = AddressSet.fromCidrs(family, DOCKER_DEFAULT_BRIDGE[family]);
  const source = AddressSet.fromMatch(family, rule.source);
  if (source.isEmpty() || !source.subtract(pool).isEmpty()) return undefined;
  return `MASQUERADE of docker0's default subnet ${rule.source.address}/${rule.source.prefixLength}`;
}

/** Names Docker gives bridges: the default bridge, user networks, Swarm's gateway bridge. */
const DOCKER_BRIDGE_NAME = /^(?:docker0|docker_gwbridge|br-[0-9a-f]{12})$/;

/**
 * Referenced bridges that are Docker's: named as Docker names them, or recognised by the model
 * from several of Docker's rule shapes. A lone `-s <net> ! -o cni0 -j MASQUERADE` is some other
 * tool's bridge until more says otherwise.
 */
function dockerBridgeNames(docker: DockerModel): string[] {
  const recognised = new Set(docker.bridges.map((b) => b.name));
  return docker.referencedBridges.filter((name) => DOCKER_BRIDGE_NAME.test(name) || recognised.has(name));
}

/** The rule earliest in the file for which `evidence` says something (a stable sort's first, without sorting). */
function earliest(ruleset: Ruleset, evidence: (rule: Rule) => string | undefined): Evidence | undefined {
  let found: Evidence | undefined;
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        if (found && rule.span.line >= found.at.line) continue;
        const what = evidence(rule);
        if (what) found = { at: rule.span, what };
      }
    }
  }
  return found;
}

/** The first sign of Docker in file order: bridge names first, then NAT of Docker's pools, then a stale DOCKER-USER. */
function findEvidence(ruleset: Ruleset, docker: DockerModel): Evidence | undefined {
  const bridges = new Set(dockerBridgeNames(docker));
  const named = bridges.size > 0 ? earliest(ruleset, (rule) => interfaceEvidence(rule, bridges)) : undefined;
  if (named) return named;
  const masqueraded = earliest(ruleset, (rule) => natEvidence(ruleset.family, rule));
  if (masqueraded) return masqueraded;
  const filter = ruleset.tables.find((t) => t.name === 'filter');
  const dockerUser = filter?.chains.find((c) => c.name === 'DOCKER-USER');
  if (dockerUser?.span) return { at: dockerUser.span, what: 'a DOCKER-USER chain' };
  return undefined;
}

function forwardPolicy(ruleset: Ruleset): 'ACCEPT' | 'DROP' | undefined {
  const forward = ruleset.tables.find((t) => t.name === 'filter')?.chains.find((c) => c.name === 'FORWARD');
  return forward ? (forward.policy ?? 'ACCEPT') : undefined;
}

/**
 * With no Docker chains and FORWARD accepting, containers are reachable by routing. Keep replies and
 * the containers' own traffic (same-bridge traffic crosses FORWARD too when br_netfilter is loaded),
 * then drop the rest. Not offered for the nftables backend, whose published ports an iptables
 * FORWARD DROP would break.
 */
function closeForward(family: Family, bridges: readonly string[]): string {
  const cmd = family === 'ipv6' ? 'ip6tables' : 'iptables';
  return [
    `${cmd} -I FORWARD 1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ...bridges.map((b, i) => `${cmd} -I FORWARD ${i + 2} -i ${b} -j ACCEPT`),
    `${cmd} -P FORWARD DROP`,
  ].join('\n');
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW114',
    name: 'docker-chains-missing',
    severity: 'warning',
    summary: "Docker's bridges are visible but Docker's iptables chains are missing: Docker is not filtering container traffic here.",
    description:
      'On a host where Docker manages iptables, the dump holds its chains (DOCKER, DOCKER-FORWARD, DOCKER-ISOLATION-STAGE-*, '
      + 'nat DOCKER …). When bridges such as docker0 or br-<id> are referenced, or a Docker subnet is masqueraded, or a stale '
      + 'DOCKER-USER is left, but those chains are absent, then Docker runs with "iptables": false, uses the nftables firewall '
      + 'backend (Docker 29, rules in `table ip docker-bridges`, invisible to iptables-save), or its rules were flushed (an '
      + 'iptables-restore or firewall reload after Docker started). Published ports then reach containers only through '
      + 'docker-proxy on the INPUT path (or through nftables rules this dump does not show), there is no isolation between '
      + 'networks and no DOCKER-USER filtering, and the FORWARD policy alone decides whether containers can be reached by routing.',
    tags: ['docker', 'security'],
    messages: {
      missing:
        'Docker bridges are in use ({evidence}; bridges: {bridges}) but none of the chains Docker\'s iptables backend writes '
        + '(DOCKER, DOCKER-FORWARD, DOCKER-ISOLATION-STAGE-*, nat DOCKER) exist: Docker runs with "iptables": false or its '
        + 'rules were flushed (then `systemctl restart docker` re-creates them). Without them nothing DNATs published ports '
        + '(docker-proxy serves them on the INPUT path, so INPUT rules apply and containers see the proxy as the source), '
        + 'Docker networks are not isolated from each other, and no DOCKER-USER is consulted.{forwardNote}',
      nftables:
        'Docker bridges are in use ({evidence}; bridges: {bridges}) and a stale DOCKER-USER chain is left, but none of the '
        + 'chains Docker\'s iptables backend writes exist: this looks like Docker 29 with "firewall-backend": "nftables", whose '
        + 'rules live in `table ip docker-bridges`/`table ip6 docker-bridges` and are invisible to iptables-save, so this dump '
        + 'cannot show what is published or filtered. Lint `nft list ruleset` too; DOCKER-USER is not consulted by that '
        + 'backend (a drop in any base chain, such as an iptables FORWARD DROP, still drops; an accept here cannot override '
        + 'Docker\'s drops).{forwardNote}',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const { ruleset, docker } = view;
      if (docker.dockerChains.size > 0) continue;
      const evidence = findEvidence(ruleset, docker);
      if (!evidence) continue;
      const named = dockerBridgeNames(docker);
      const bridges = named.length > 0 ? named.join(', ') : 'not named in this dump';
      const policy = forwardPolicy(ruleset);
      const hasDockerUser = ruleset.tables.some((t) => t.name === 'filter' && t.chains.some((c) => c.name === 'DOCKER-USER'));
      const forwardNote = hasDockerUser
        ? (policy === 'DROP'
          ? ' The iptables FORWARD policy DROP also applies to forwarded container traffic and drops what Docker\'s nftables rules accept, unless your FORWARD rules accept it first.'
          : '')
        : (policy === 'DROP'
          ? ' FORWARD policy is DROP: containers are reachable from outside only where your own FORWARD rules allow it.'
          : ' FORWARD policy is ACCEPT: anyone who routes to a container address reaches every port of that container.');
      context.report({
        at: evidence.at,
        messageId: hasDockerUser ? 'nftables' : 'missing',
        data: { evidence: evidence.what, bridges, forwardNote },
        ...(!hasDockerUser && policy === 'ACCEPT' && named.length > 0 ? { fix: closeForward(ruleset.family, named) } : {}),
      });
    }
  },
});
