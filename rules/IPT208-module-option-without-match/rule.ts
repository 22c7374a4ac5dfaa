// IPT208 module-option-without-match: an option of a match module (or of a
// target) written where that module (or target) is not loaded, so another
// module or target had to take it. iptables-restore refuses such a line
// ("unknown option"), and dockfw-lint's parser refuses it too when the option
// comes after a module with a known option list. What a parsed dump can still
// hold: the option was swallowed by a module or target whose options are kept
// verbatim (opaque and unknown modules such as hashlimit, connlimit, geoip;
// targets such as NFQUEUE or TPROXY) — `-m connlimit --connlimit-above 3
// --ctstate NEW`, `-m geoip --src-cc CN --log-prefix x -j LOG`. Port options are
// IPT207's (port-without-protocol).

import type { Chain, Family, Match, RawOption, Rule, Target } from '../../grammar/ast.ts';
import { matchOptionTable, targetOptionTable, TYPED_MATCHES } from '../../grammar/modules.ts';
import { defineRule, type RuleContext } from '../../src/engine/types.ts';
import { compareCodeUnits } from '../../src/model/order.ts';
import { forEachRule } from '../IPT2xx-lib/iptables.ts';
import { printableMatch, protocolNamed, replaceRule, specWith } from '../IPT2xx-lib/rewrite.ts';

/** Port options: IPT207. */
const PORT_OPTIONS: ReadonlySet<string> = new Set([
  '--sport', '--dport', '--source-port', '--destination-port',
  '--sports', '--dports', '--ports', '--source-ports', '--destination-ports',
]);

/** Names other (opaque) modules or targets also use: an owner might really take them. */
const SHARED_NAMES: ReadonlySet<string> = new Set([
  '--set', '--mask', '--helper', '--timeout', '--random', '--random-fully', '--persistent', '--name', '--mode',
]);

/** Typed targets whose options the parser knows. */
const TYPED_TARGETS = ['REJECT', 'LOG', 'NFLOG', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'CT', 'TCPMSS', 'CHECKSUM'];

/** The protocol a match module needs before it. */
const MODULE_PROTOCOL: Readonly<Record<string, string>> = {
  tcp: 'tcp', udp: 'udp', udplite: 'udplite', sctp: 'sctp', dccp: 'dccp', icmp: 'icmp', icmp6: 'ipv6-icmp',
};

function ownerIndex(): { matchOf: Map<string, string>; targetOf: Map<string, string> } {
  const matchOf = new Map<string, string>();
  // Where two modules share a name, the common one is its home: --mark is -m mark's (not connmark's).
  const preferred = ['mark', 'udp'];
  const modules = [...TYPED_MATCHES].sort((a, b) => Number(preferred.includes(b)) - Number(preferred.includes(a)) || compareCodeUnits(a, b));
  for (const module of modules) {
    for (const [name, spec] of Object.entries(matchOptionTable(module) ?? {})) {
      if (PORT_OPTIONS.has(name) || SHARED_NAMES.has(name)) continue;
      if (!matchOf.has(name)) matchOf.set(name, module);
      if (spec.canonical && !matchOf.has(spec.canonical)) matchOf.set(spec.canonical, module);
    }
  }
  const targetOf = new Map<string, string>();
  for (const target of TYPED_TARGETS) {
    for (const name of Object.keys(targetOptionTable(target) ?? {})) {
      if (SHARED_NAMES.has(name) || matchOf.has(name)) continue;
      if (!targetOf.has(name)) targetOf.set(name, target);
    }
  }
  return { matchOf, targetOf };
}

const OWNERS = ownerIndex();

type MessageId = 'matchOptionAbsorbed' | 'targetOptionBeforeTarget';

function targetName(t: Target): string {
  return t.kind === 'verdict' || t.kind === 'other' ? t.name : t.kind === 'chain' ? t.chain : t.kind;
}

export default defineRule<MessageId>({
  meta: {
    id: 'IPT208',
    name: 'module-option-without-match',
    severity: 'warning',
    summary: 'An option of a match module (or target) the rule does not load before it, swallowed by another module or target.',
    description:
      'iptables parses a rule left to right and gives each option to a module (-m) or target (-j) already loaded. An '
      + 'option of a module that is not loaded — --ctstate without -m conntrack, --src-range without -m iprange, a '
      + 'target option before its -j — ends up with a module or target that has no such option, and iptables-restore '
      + 'refuses the line ("unknown option"), so the whole table fails to load. The rule reports such options where '
      + 'a module or target with a free-form option list swallowed them (hashlimit, connlimit, geoip, NFQUEUE …), which '
      + 'is all a parsed dump can hold: anywhere else the parser rejects the line itself.',
    tags: ['correctness', 'iptables'],
    messages: {
      matchOptionAbsorbed:
        '{option} is an option of the {module} match, but this rule has no -m {module} before it, so it was read as an '
        + 'option of {owner}, which has no such option: iptables-restore refuses the line (unknown option "{option}") and '
        + 'the whole {table} table fails to load. Load the module first: -m {module} {optionText}.',
      targetOptionBeforeTarget:
        '{option} is an option of the {target} target but comes before -j {target}, so it was read as an option of '
        + '{owner}, which has no such option: iptables-restore refuses the line (unknown option "{option}") and the whole '
        + '{table} table fails to load. Put it after -j {target}.',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    forEachRule(context.host, (view, _table, chain, rule) => checkRule(context, view.ruleset.family, chain, rule));
  },
});

function optionText(o: RawOption): string {
  return `${o.negated ? '! ' : ''}${o.name}${o.values.length > 0 ? ` ${o.values.join(' ')}` : ''}`;
}

function checkRule(context: RuleContext<MessageId>, family: Family, chain: Chain, rule: Rule): void {
  if (rule.target?.kind !== 'other' && !rule.matches.some((m) => m.kind === 'opaque' || m.kind === 'unknown')) return;
  const owners: { label: string; options: readonly RawOption[]; match?: Match }[] = [];
  for (const m of rule.matches) if (m.kind === 'opaque' || m.kind === 'unknown') owners.push({ label: `-m ${m.module}`, options: m.options, match: m });
  if (rule.target?.kind === 'other') owners.push({ label: `-j ${rule.target.name}`, options: rule.target.options });
  for (const owner of owners) {
    for (const option of owner.options) {
      const module = OWNERS.matchOf.get(option.name);
      const target = OWNERS.targetOf.get(option.name);
      if (module === undefined && target === undefined) continue;
      const without = owner.options.filter((o) => o !== option);
      const stripped = rule.matches.map((m) => (m === owner.match ? printableMatch(m.module, without, rule) : m));
      const ownTarget = owner.match ? rule.target : rule.target && { ...rule.target, options: without };
      if (module) {
        const protocol = MODULE_PROTOCOL[module];
        const needsProtocol = protocol !== undefined && (rule.protocol?.name !== protocol || rule.protocol.negated);
        const spec = specWith(rule, {
          ...(needsProtocol ? { protocol: protocolNamed(protocol) } : {}),
          matches: [...stripped, printableMatch(module, [option], rule)],
          ...(ownTarget ? { target: ownTarget } : {}),
        });
        context.report({
          at: rule.span,
          messageId: 'matchOptionAbsorbed',
          data: { option: option.name, module: needsProtocol ? `${module}` : module, owner: owner.label, table: rule.table, optionText: optionText(option) },
          fix: replaceRule(family, chain, rule, spec),
        });
        return;
      }
      if (target && owner.match && rule.target && targetName(rule.target) === target) {
        const spec = specWith(rule, { matches: stripped, target: { ...rule.target, options: [...rule.target.options, option] } });
        context.report({
          at: rule.span,
          messageId: 'targetOptionBeforeTarget',
          data: { option: option.name, target, owner: owner.label, table: rule.table },
          fix: replaceRule(family, chain, rule, spec),
        });
        return;
      }
    }
  }
}
