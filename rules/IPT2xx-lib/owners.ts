// Chains other tools own: they write and rewrite them, so a generic finding on
// one of their rules is not the administrator's to fix. Patterns use `*` for
// any characters; a leading `!` keeps a name the patterns before it caught
// (DOCKER-USER and ufw's `ufw-user-*` chains hold the administrator's rules).

import type { Chain, Rule, Table } from '../../grammar/ast.ts';
import { isUnconditional } from './chain-graph.ts';

/** Chains the generic rules leave alone by default (the `ignoreChains` option). */
export const TOOL_CHAINS: readonly string[] = [
  // Docker (DOCKER-USER is the administrator's)
  'DOCKER', 'DOCKER-*', '!DOCKER-USER',
  // ufw's framework (ufw-user-* hold the rules the administrator gave ufw)
  'ufw-*', 'ufw6-*', '!ufw-user-*', '!ufw6-user-*',
  // Kubernetes: kube-proxy, flannel, Calico, Cilium
  'KUBE-*', 'FLANNEL-*', 'cali-*', 'CILIUM_*',
  // firewalld's iptables backend
  '*_direct', '*_ZONES', '*_ZONES_SOURCE', 'IN_*', 'FWDI_*', 'FWDO_*', 'PRE_*', 'POST_*',
];

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * A test for one glob. Nearly every pattern is a prefix (`KUBE-*`) or a suffix (`*_direct`):
 * those are string comparisons; a regex (whose leading `.*` rescans the name) only for the rest.
 * The matchers run on every chain for several rules, and a kube-proxy dump has 60,000 chains.
 */
function globTest(glob: string): (name: string) => boolean {
  const star = glob.indexOf('*');
  if (star === -1) return (name) => name === glob;
  if (star === glob.length - 1) {
    const prefix = glob.slice(0, -1);
    return (name) => name.startsWith(prefix);
  }
  if (star === 0 && glob.indexOf('*', 1) === -1) {
    const suffix = glob.slice(1);
    return (name) => name.endsWith(suffix);
  }
  const re = globToRegExp(glob);
  return (name) => re.test(name);
}

/** A predicate for `patterns`: a name matches when a plain pattern matches it and no later `!pattern` does. */
export function chainMatcher(patterns: readonly string[]): (name: string) => boolean {
  const compiled = patterns.map((p) => ({ negated: p.startsWith('!'), test: globTest(p.startsWith('!') ? p.slice(1) : p) }));
  if (!compiled.some((c) => c.negated)) {
    const tests = compiled.map((c) => c.test);
    return (name) => tests.some((test) => test(name));
  }
  return (name) => {
    let matched = false;
    for (const { negated, test } of compiled) if (test(name)) matched = !negated;
    return matched;
  };
}

/** The JSON Schema of the `ignoreChains` option. */
export const IGNORE_CHAINS_SCHEMA = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description: 'Chain names whose rules are not reported: * matches any characters, a leading ! keeps a name an earlier pattern caught. Replaces the default list.',
} as const;

/** `meta.options` and `meta.defaultOptions` of a rule whose only option is `ignoreChains`. */
export function ignoreChainsOption(defaults: readonly string[] = TOOL_CHAINS) {
  return {
    options: { type: 'object', properties: { ignoreChains: IGNORE_CHAINS_SCHEMA }, additionalProperties: false },
    defaultOptions: { ignoreChains: defaults },
  } as const;
}

/** The predicate for a rule's `ignoreChains` option (its defaults when the option is absent). */
export function ignoredChains(options: Readonly<Record<string, unknown>>, defaults: readonly string[] = TOOL_CHAINS): (name: string) => boolean {
  return chainMatcher((options.ignoreChains as readonly string[] | undefined) ?? defaults);
}

/**
 * A rule covered by `coverer` that the Docker rules explain better: the covering rule is one Docker wrote
 * (DFW102: an admin rule in FORWARD below Docker's ACCEPTs), or the unconditional RETURN of DOCKER-USER
 * (DFW104: admin rules appended below it).
 */
export function coverIsDockers(dockerRules: ReadonlySet<Rule>, table: Table, chain: Chain, coverer: Rule): boolean {
  if (dockerRules.has(coverer)) return true;
  return table.name === 'filter' && chain.name === 'DOCKER-USER' && isUnconditional(coverer)
    && coverer.target?.kind === 'verdict' && coverer.target.name === 'RETURN';
}
