// Fake Docker model and simulator for engine tests: the engine never looks
// inside them, and rules under test here only read the AST.
import type { Ruleset } from '../../grammar/ast.ts';
import type { DockerModel } from '../../src/model/docker-types.ts';
import type { Analysers } from '../../src/engine/host.ts';
import type { Simulator } from '../../src/engine/types.ts';
import { defineRule, type LintRule } from '../../src/engine/types.ts';

export function fakeDocker(ruleset: Ruleset): DockerModel {
  return {
    family: ruleset.family, layout: 'none', description: 'no Docker', bridges: [], containers: [], published: [],
    dockerUser: { exists: false, firstInForward: false }, userlandProxy: 'unknown', swarm: false,
    dockerChains: new Set(), dockerRules: new Set(), referencedBridges: [],
  };
}

export function fakeSimulator(ruleset: Ruleset): Simulator {
  return {
    host: {
      family: ruleset.family, localAddresses: [], localAddressesKnown: false, externalInterfaces: ['eth0'], externalInterfacesKnown: false, bridges: [],
      route: () => ({ kind: 'external', interface: 'eth0' }), isLocal: () => false,
    },
    trace: () => { throw new Error('not in engine tests'); },
    exposure: () => ({ family: ruleset.family, published: [], direct: [], host: [] }),
  };
}

export const fakeAnalysers: Analysers = { recogniseDocker: fakeDocker, createSimulator: (r) => fakeSimulator(r) };

/** Reports every DROP rule in filter (one finding per rule line). */
export const dropRule = defineRule<'drop'>({
  meta: {
    id: 'TST101', name: 'drop-rule', severity: 'warning', summary: 'Reports DROP rules.', description: 'Test rule.',
    tags: ['security'], messages: { drop: 'rule drops {what} in {chain}' },
  },
  check(context) {
    for (const view of context.host.views) {
      for (const table of view.ruleset.tables) {
        for (const chain of table.chains) {
          for (const rule of chain.rules) {
            if (rule.target?.kind === 'verdict' && rule.target.name === 'DROP') {
              context.report({ at: rule.span, messageId: 'drop', data: { what: rule.protocol?.name ?? 'all', chain: chain.name }, fix: `iptables -D ${chain.name} ${rule.text}` });
            }
          }
        }
      }
    }
  },
});

/** Reports every chain with an ACCEPT policy, at its declaration. */
export const policyRule = defineRule<'policy'>({
  meta: {
    id: 'TST102', name: 'accept-policy', severity: 'error', summary: 'Reports ACCEPT policies.', description: 'Test rule.',
    tags: [], messages: { policy: '{chain} accepts by default' }, defaultOptions: { chains: ['INPUT'] },
  },
  check(context) {
    const chains = context.options.chains as string[];
    for (const view of context.host.views) {
      for (const table of view.ruleset.tables) {
        if (table.name !== 'filter') continue;
        for (const chain of table.chains) {
          if (chains.includes(chain.name) && chain.policy === 'ACCEPT' && chain.span) context.report({ at: chain.span, messageId: 'policy', data: { chain: chain.name } });
        }
      }
    }
  },
});

export const throwingRule: LintRule = {
  meta: { id: 'TST199', name: 'throws', severity: 'info', summary: 'Crashes.', description: 'Test rule.', tags: [], messages: { x: 'x' } },
  check() { throw new TypeError('boom\nsecond line'); },
};
