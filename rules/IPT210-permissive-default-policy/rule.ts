// IPT210 permissive-default-policy: INPUT (and FORWARD, see below) accepts
// what no rule decided: policy ACCEPT, and no unconditional DROP/REJECT that
// every remaining packet reaches — directly, or through an unconditional jump
// or goto to a chain that ends in one (ufw's and firewalld's layouts).
//
// FORWARD only matters when the host forwards, which a dump does not show. On
// a Docker host it does (Docker turns forwarding on): with Docker ≤27, what a
// permissive FORWARD exposes is the containers, and DFW108 reports it with the
// packet path; with Docker 28+, Docker's own chains drop traffic to container
// ports that are not published, and this rule reports the rest. On a host
// without Docker, FORWARD is reported only with the option `forward: "always"`.

import type { Chain, Table } from '../../grammar/ast.ts';
import type { DockerLayout } from '../../src/model/docker-types.ts';
import { defineRule } from '../../src/engine/types.ts';
import { endsChainWalk, isUnconditional } from '../IPT2xx-lib/chain-graph.ts';
import { iptablesCommand } from '../IPT2xx-lib/iptables.ts';

/** Docker layouts whose own chains drop traffic to unpublished container ports, by name. */
const DOCKER_28: ReadonlyMap<DockerLayout, string> = new Map([
  ['28.0.0', 'Docker 28.0'], ['28.0.1-28.1', 'Docker 28.0.1–28.1'], ['28.2', 'Docker 28.2+'], ['29', 'Docker 29'],
] as const);

/** Whether every packet that reaches the end of the rules no other rule decided is dropped or rejected. */
function endsInDeny(table: Table, chain: Chain, seen: Set<string> = new Set()): boolean {
  if (seen.has(chain.name)) return false;
  seen.add(chain.name);
  for (const rule of chain.rules) {
    if (!isUnconditional(rule) || !rule.target) continue;
    const t = rule.target;
    if (t.kind === 'REJECT' || (t.kind === 'verdict' && t.name === 'DROP')) return true;
    if (t.kind === 'chain') {
      const next = table.chains.find((c) => c.name === t.chain);
      const denies = next !== undefined && endsInDeny(table, next, new Set(seen));
      if (denies) return true;
      if (t.goto) return false;
      continue;
    }
    if (endsChainWalk(rule)) return false;
  }
  return false;
}

export default defineRule<'inputAccepts' | 'forwardAccepts' | 'forwardAcceptsDocker'>({
  meta: {
    id: 'IPT210',
    name: 'permissive-default-policy',
    severity: 'warning',
    summary: 'INPUT (or FORWARD) accepts by default: policy ACCEPT and no final rule that drops whatever the rules did not allow.',
    description:
      'With policy ACCEPT and no unconditional DROP or REJECT at the end (directly or through an unconditional jump to '
      + 'a chain ending in one), every packet no rule matched is accepted: a service that starts listening is reachable '
      + 'at once, and an allow-list restricts nothing. FORWARD is reported on hosts with Docker 28 or later (Docker '
      + 'turns forwarding on; its own chains drop traffic to unpublished container ports, but any other forwarding stays '
      + 'open), and on other hosts with the option forward: "always"; with Docker 27 or earlier DFW108 reports what a '
      + 'permissive FORWARD exposes.',
    tags: ['security', 'iptables'],
    messages: {
      inputAccepts:
        '{chain} accepts by default: its policy is ACCEPT and no rule at its end drops what the rules before did not '
        + 'allow, so every packet to the host that nothing matched is accepted — any service that starts listening is '
        + 'reachable at once. Make sure lo, RELATED,ESTABLISHED and your SSH access are accepted, then set the policy to DROP.',
      forwardAccepts:
        '{chain} accepts by default: its policy is ACCEPT and no rule at its end drops what the rules before did not '
        + 'allow, so the host routes every packet nothing matched between any of its interfaces. Set the policy to DROP '
        + 'and accept the forwarding you mean.',
      forwardAcceptsDocker:
        '{chain} accepts by default: its policy is ACCEPT and no rule at its end drops what the rules before did not '
        + 'allow. {docker} drops traffic to container ports that are not published (its DOCKER chain), but every '
        + 'other packet is routed: between other bridges, VPN and LAN interfaces, to routed subnets. Set the policy to '
        + 'DROP (Docker accepts its own traffic explicitly) and accept the forwarding you mean.',
    },
    options: {
      type: 'object',
      properties: {
        chains: {
          type: 'array',
          items: { enum: ['INPUT', 'FORWARD'] },
          uniqueItems: true,
          description: 'Built-in filter chains to check.',
        },
        forward: {
          enum: ['docker-28', 'always'],
          description: 'When FORWARD is checked: only on hosts with Docker 28+ (default), or always.',
        },
      },
      additionalProperties: false,
    },
    defaultOptions: { chains: ['INPUT', 'FORWARD'], forward: 'docker-28' },
  },
  check(context) {
    const chains = (context.options.chains as readonly string[] | undefined) ?? ['INPUT', 'FORWARD'];
    const forwardAlways = context.options.forward === 'always';
    for (const view of context.host.views) {
      const filter = view.ruleset.tables.find((t) => t.name === 'filter');
      if (!filter) continue;
      const docker28 = DOCKER_28.get(view.docker.layout);
      for (const name of chains) {
        const chain = filter.chains.find((c) => c.name === name && c.builtin);
        if (!chain || chain.policy !== 'ACCEPT') continue;
        if (name === 'FORWARD' && docker28 === undefined && !forwardAlways) continue;
        if (endsInDeny(filter, chain)) continue;
        const messageId = name === 'FORWARD' ? (docker28 !== undefined ? 'forwardAcceptsDocker' : 'forwardAccepts') : 'inputAccepts';
        context.report({
          at: chain.span ?? filter.span,
          messageId,
          data: { chain: name, docker: docker28 ?? '' },
          fix: `${iptablesCommand(view.ruleset.family)} -t filter -P ${name} DROP`,
        });
      }
    }
  },
});
