// DFW112 docker-chain-edited: a rule in a chain Docker owns that Docker did not
// write. Docker flushes and rebuilds its chains (daemon start, network and
// container changes, firewalld reloads), so such a rule silently disappears.

import type { Chain, Family, Rule, Table } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';
import { DOCKER_OWNED_CHAINS } from '../../src/model/docker/chains.ts';

type MessageId = 'edited' | 'editedNat';

/** Where a filter rule that Docker's chain held belongs instead: DOCKER-USER, consulted first and never rewritten. */
function movable(rule: Rule): boolean {
  const target = rule.target;
  if (!target) return false;
  return (target.kind === 'verdict' && target.name === 'DROP') || target.kind === 'REJECT';
}

function command(family: Family): string {
  return family === 'ipv6' ? 'ip6tables' : 'iptables';
}

function fixFor(family: Family, table: Table, chain: Chain, rule: Rule, dockerUserExists: boolean): string {
  const cmd = command(family);
  const tableFlag = table.name === 'filter' ? '' : ` -t ${table.name}`;
  const lines = [`${cmd}${tableFlag} -D ${chain.name} ${rule.text}`];
  if (table.name === 'filter' && movable(rule)) {
    if (!dockerUserExists) lines.unshift(`${cmd} -N DOCKER-USER`, `${cmd} -I FORWARD 1 -j DOCKER-USER`);
    // DOCKER is reached only for packets leaving by a bridge (`-o <br> -j DOCKER`); a rule without
    // `-o` keeps that scope in DOCKER-USER by naming the bridge, which the message asks the admin to add.
    lines.push(`${cmd} -I DOCKER-USER ${rule.text}`);
  }
  return lines.join('\n');
}

export default defineRule<MessageId>({
  meta: {
    id: 'DFW112',
    name: 'docker-chain-edited',
    severity: 'warning',
    summary: "A rule in one of Docker's own chains that Docker did not write: it is lost when Docker rewrites the chain.",
    description:
      'Docker owns the chains DOCKER, DOCKER-FORWARD, DOCKER-BRIDGE, DOCKER-CT, DOCKER-INTERNAL, DOCKER-INGRESS and '
      + 'DOCKER-ISOLATION-STAGE-1/2 (filter) and DOCKER, DOCKER-INGRESS (nat). It flushes and re-creates them on daemon start '
      + 'and rewrites them whenever networks, containers or published ports change and when firewalld reloads. A rule an '
      + 'administrator inserts there works until the next such event and then silently disappears. Filtering for '
      + 'container traffic belongs in DOCKER-USER, which Docker creates, jumps to first and never flushes.',
    tags: ['docker', 'maintainability'],
    messages: {
      edited:
        '{table} chain {chain} is owned by Docker, which did not write this rule: Docker flushes and rebuilds {chain} on daemon '
        + 'restart, network or container changes and firewalld reloads, so the rule will silently disappear. Put it in DOCKER-USER instead'
        + '{scopeHint}.',
      editedNat:
        'nat chain {chain} is owned by Docker, which did not write this rule: Docker flushes and rebuilds {chain} on daemon restart, '
        + 'network or container changes and firewalld reloads, so the rule will silently disappear. Keep your own NAT rules in a chain of '
        + 'your own jumped to from nat PREROUTING/OUTPUT.',
    },
  },
  check(context) {
    for (const view of context.host.views) {
      const { ruleset, docker } = view;
      if (docker.dockerChains.size === 0) continue;
      for (const table of ruleset.tables) {
        for (const chain of table.chains) {
          if (chain.builtin || !DOCKER_OWNED_CHAINS[table.name]?.includes(chain.name)) continue;
          for (const rule of chain.rules) {
            if (docker.dockerRules.has(rule)) continue;
            const scopeHint = table.name === 'filter' && chain.name === 'DOCKER' && !rule.outInterface
              ? ' (add `-o <bridge>` there: DOCKER only sees packets leaving by a Docker bridge, DOCKER-USER sees all forwarded traffic)'
              : '';
            context.report({
              at: rule.span,
              messageId: table.name === 'nat' ? 'editedNat' : 'edited',
              data: { table: table.name, chain: chain.name, scopeHint },
              fix: fixFor(ruleset.family, table, chain, rule, docker.dockerUser.exists),
            });
          }
        }
      }
    }
  },
});
