// The rule node parse() builds. It is a Rule like any other, with one difference:
// its canonical `text` is printed the first time it is read, then kept.
//
// Why: printing every rule of a large file was a tenth of parsing it (kube-170k:
// about 160 ms and 140 MB of short-lived strings), and the texts were the largest
// strings the AST kept (about 40 MB of peak RSS). Most consumers never read most
// texts: the simulator and exposure do not, and a report prints the few rules
// it names.
//
// `text` is an own, enumerable accessor rather than a prototype getter, so the
// node behaves as plain data everywhere: a spread (`{ ...rule }`) copies the
// text, JSON.stringify writes it, and structural equality compares it.

import type { AddressMatch, Counters, InterfaceMatch, Match, ProtocolMatch, Rule, Span, TableName, Target } from './ast.ts';
import { printRuleSpec } from './printer.ts';

/** Every field of a rule but its text, which is derived from the others. */
export type RuleFields = Omit<Rule, 'text'>;

class ParsedRule implements Rule {
  declare readonly text: string;
  #text: string | undefined;

  constructor(
    readonly span: Span,
    readonly table: TableName,
    readonly chain: string,
    readonly counters: Counters | undefined,
    readonly protocol: ProtocolMatch | undefined,
    readonly source: AddressMatch | undefined,
    readonly destination: AddressMatch | undefined,
    readonly inInterface: InterfaceMatch | undefined,
    readonly outInterface: InterfaceMatch | undefined,
    readonly fragment: { readonly negated: boolean } | undefined,
    readonly matches: readonly Match[],
    readonly target: Target | undefined,
  ) {
    Object.defineProperty(this, 'text', ParsedRule.#textAccessor);
  }

  // One descriptor and one getter shared by every node: no closure per rule.
  static readonly #textAccessor: PropertyDescriptor = {
    enumerable: true,
    get(this: ParsedRule): string {
      return (this.#text ??= printRuleSpec(this));
    },
  };
}

/** A rule node whose text is printed on first read. */
export function ruleNode(fields: RuleFields): Rule {
  return new ParsedRule(
    fields.span, fields.table, fields.chain, fields.counters, fields.protocol, fields.source, fields.destination,
    fields.inInterface, fields.outInterface, fields.fragment, fields.matches, fields.target,
  );
}
