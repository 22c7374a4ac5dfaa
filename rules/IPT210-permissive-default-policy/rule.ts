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

import type { Chain } from '../../grammar/ast.ts';
import type { DockerLayout } from '../../src/model/docker-types.ts';
import { defineRule } from '../../src/engine/types.ts';
import { chainGraph, endsChainWalk, isUnconditional } from '../IPT2xx-lib/chain-graph.ts';
import { iptablesCommand } from '../IPT2xx-lib/iptables.ts';

/** Docker layouts whose own chains drop traffic to unpublished container ports, by name. */
const DOCKER_28: ReadonlyMap<DockerLayout, string> = new Map([
  ['28.0.0', 'Docker 28.0'], ['28.0.1-28.1', 'Docker 28.0.1–28.1'], ['28.2', 'Docker 28.2+'], ['29', 'Docker 29'],
] as const);

/** A chain being read: the chain and the index of its next rule. */
interface Frame {
  readonly chain: Chain;
  next: number;
}

/**
 * Whether every packet that reaches the end of the rules no other rule decided is dropped or rejected.
 * Walks with its own stack (jump chains may be 10,000 deep) and records each chain's answer in `memo`,
 * so a table is read once however many chains ask. A chain met again on the current path is a loop
 * (IPT203's): it decides nothing.
 */
function endsInDeny(chains: ReadonlyMap<string, Chain>, start: Chain, memo: Map<string, boolean>): boolean {
  const known = memo.get(start.name);
  if (known !== undefined) return known;
  const onPath = new Set<string>([start.name]);
  const stack: Frame[] = [{ chain: start, next: 0 }];
  // The answer of the chain just left, for the jump in its caller that entered it.
  let answer: boolean | undefined;
  let result = false;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    let decided: boolean | undefined;
    if (answer !== undefined) {
      const jump = frame.chain.rules[frame.next - 1]!.target;
      if (answer) decided = true;
      else if (jump?.kind === 'chain' && jump.goto) decided = false;
      answer = undefined;
    }
    let entered = false;
    while (decided === undefined && frame.next < frame.chain.rules.length) {
      const rule = frame.chain.rules[frame.next++]!;
      if (!isUnconditional(rule) || !rule.target) continue;
      const t = rule.target;
      if (t.kind === 'REJECT' || (t.kind === 'verdict' && t.name === 'DROP')) {
        decided = true;
      } else if (t.kind === 'chain') {
        const next = chains.get(t.chain);
        const denies = next === undefined || onPath.has(next.name) ? false : memo.get(next.name);
        if (denies === undefined) {
          onPath.add(next!.name);
          stack.push({ chain: next!, next: 0 });
          entered = true;
          break;
        }
        if (denies) decided = true;
        else if (t.goto) decided = false;
      } else if (endsChainWalk(rule)) {
        decided = false;
      }
    }
    if (entered) continue;
    result = decided ?? false;
    memo.set(frame.chain.name, result);
    onPath.delete(frame.chain.name);
    stack.pop();
    answer = result;
  }
  return result;
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
      const { chains: chainsByName } = chainGraph(filter);
      const denies = new Map<string, boolean>();
      for (const name of chains) {
        const chain = filter.chains.find((c) => c.name === name && c.builtin);
        if (!chain || chain.policy !== 'ACCEPT') continue;
        if (name === 'FORWARD' && docker28 === undefined && !forwardAlways) continue;
        if (endsInDeny(chainsByName, chain, denies)) continue;
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
