// Replacement rules for fixes: the rule with some parts changed, printed in
// iptables-save form, and the `-R` command that puts it in place.

import type { Chain, Family, Match, ProtocolMatch, RawOption, Rule, Target } from '../../grammar/ast.ts';
import { printRuleSpec } from '../../grammar/printer.ts';
import { replaceCommand } from './iptables.ts';

export const PORT_PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, udplite: 136, sctp: 132, dccp: 33 };

export function protocolNamed(name: string): ProtocolMatch {
  const numbers: Record<string, number> = { ...PORT_PROTOCOL_NUMBERS, icmp: 1, 'ipv6-icmp': 58 };
  return { name, number: numbers[name] ?? 0, negated: false };
}

/** A match as the printer needs it (`-m MODULE OPTIONS`): typed fields are irrelevant to printing. */
export function printableMatch(module: string, options: readonly RawOption[], like: Rule): Match {
  return { kind: 'unknown', module, options, span: like.span };
}

export interface RuleChanges {
  readonly protocol?: ProtocolMatch;
  readonly matches?: readonly Match[];
  readonly target?: Target;
}

/** The rule's spec with some parts replaced. */
export function specWith(rule: Rule, changes: RuleChanges): string {
  return printRuleSpec({
    counters: undefined,
    protocol: 'protocol' in changes ? changes.protocol : rule.protocol,
    source: rule.source,
    destination: rule.destination,
    inInterface: rule.inInterface,
    outInterface: rule.outInterface,
    fragment: rule.fragment,
    matches: changes.matches ?? rule.matches,
    target: changes.target ?? rule.target,
  });
}

/** `iptables -t TABLE -R CHAIN N <spec>` for this rule of this chain. */
export function replaceRule(family: Family, chain: Chain, rule: Rule, spec: string): string {
  return replaceCommand(family, rule.table, chain.name, chain.rules.indexOf(rule) + 1, spec);
}
