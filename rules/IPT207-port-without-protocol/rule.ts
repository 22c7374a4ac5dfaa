// IPT207 port-without-protocol: a port test on a rule whose protocol cannot
// carry ports. What a parsed dump can still hold:
//
// - a tcp/udp/sctp/dccp/multiport match with ports under a negated protocol
//   (`! -p tcp --dport 22`): iptables-nft loads it (as nftables'
//   `meta l4proto != tcp th dport 22`, which reads the port field of every
//   other transport header), iptables-legacy's kernel refuses it;
// - a port option (`--dport`, `--dports` …) taken as an option of an opaque or
//   unknown match module, or of a target whose options are kept verbatim,
//   because the rule has no port-carrying `-p` at that point: iptables-restore
//   refuses the line (unknown option);
// - in rulesets built without the parser (plugins, merges): a port match or a
//   NAT target with ports (`--to-destination IP:PORT`, `--to-ports`) with no, or
//   another, protocol — iptables refuses those, and so does the parser.

import type { Chain, Family, Match, RawOption, Rule } from '../../grammar/ast.ts';
import { defineRule, type RuleContext } from '../../src/engine/types.ts';
import { forEachRule } from '../IPT2xx-lib/iptables.ts';
import { PORT_PROTOCOL_NUMBERS, printableMatch, protocolNamed, replaceRule, specWith } from '../IPT2xx-lib/rewrite.ts';

const PORT_OPTIONS: ReadonlySet<string> = new Set([
  '--sport', '--dport', '--source-port', '--destination-port',
  '--sports', '--dports', '--ports', '--source-ports', '--destination-ports',
]);
const MULTIPORT_OPTIONS: ReadonlySet<string> = new Set(['--sports', '--dports', '--ports', '--source-ports', '--destination-ports']);
const CANONICAL: Readonly<Record<string, string>> = {
  '--source-port': '--sport', '--destination-port': '--dport', '--source-ports': '--sports', '--destination-ports': '--dports',
};
const PORT_NUMBERS = new Set(Object.values(PORT_PROTOCOL_NUMBERS));
const FIELD: Readonly<Record<string, string>> = {
  '--sport': 'source port', '--source-port': 'source port', '--sports': 'source port', '--source-ports': 'source port',
  '--dport': 'destination port', '--destination-port': 'destination port', '--dports': 'destination port', '--destination-ports': 'destination port',
  '--ports': 'source or destination port',
};

type MessageId = 'negatedProtocol' | 'missingProtocol' | 'absorbedByMatch' | 'absorbedByTarget' | 'natPortWithoutProtocol';

function hasPorts(m: Match): boolean {
  switch (m.kind) {
    case 'tcp': case 'udp': case 'sctp': case 'dccp': return m.sport !== undefined || m.dport !== undefined;
    case 'multiport': return true;
    default: return false;
  }
}

/** The protocol a port-carrying match module needs (multiport: tcp, unless tcp is the protocol it excludes). */
function protocolFor(m: Match, rule: Rule): string {
  if (m.kind !== 'multiport') return m.module === 'udplite' ? 'udplite' : m.kind;
  return rule.protocol?.negated && rule.protocol.number === 6 ? 'udp' : 'tcp';
}

export default defineRule<MessageId>({
  meta: {
    id: 'IPT207',
    name: 'port-without-protocol',
    severity: 'error',
    summary: 'A port test (--dport, --sport, multiport, NAT to a port) on a rule whose protocol cannot carry ports.',
    description:
      'Ports exist only for TCP, UDP, UDP-Lite, SCTP and DCCP, so iptables only accepts port options with -p naming one '
      + 'of them. A negated protocol (! -p tcp --dport 22) loads with iptables-nft, which then compares the port field '
      + 'of every other transport header (UDP, SCTP … and two bytes of ICMP), while iptables-legacy refuses it; a port '
      + 'option swallowed by another module or target (no -p at all) makes iptables-restore refuse the line.',
    tags: ['correctness', 'iptables'],
    messages: {
      negatedProtocol:
        '{option} under "! -p {protocol}": iptables-legacy refuses this rule (the {module} match only works for -p {needs}), '
        + 'and iptables-nft loads it as "any protocol but {protocol} whose transport header has {field} {value}" — UDP, '
        + 'SCTP and DCCP ports, and two bytes of any other header. Name the protocol you mean (fix: -p {fixProtocol}).',
      missingProtocol:
        'The {module} match ({option}) needs -p {needs}, but this rule {has}: iptables refuses it, so the whole {table} '
        + 'table fails to load. Add the protocol (fix: -p {fixProtocol}).',
      absorbedByMatch:
        '{option} has no protocol match to belong to (this rule {has}), so it was read as an option of -m {owner}, which '
        + 'has no such option: iptables-restore refuses the line (unknown option "{option}") and the whole {table} table '
        + 'fails to load. Add the protocol before it (fix: -p {fixProtocol}).',
      absorbedByTarget:
        '{option} has no protocol match to belong to (this rule {has}), so it was read as an option of -j {owner}, which '
        + 'has no such option: iptables-restore refuses the line (unknown option "{option}") and the whole {table} table '
        + 'fails to load. Add the protocol before it (fix: -p {fixProtocol}).',
      natPortWithoutProtocol:
        '{target} to a port needs -p tcp, udp, sctp or dccp, but this rule {has}: iptables refuses it, so the whole {table} '
        + 'table fails to load. Add the protocol (fix: -p {fixProtocol}).',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    forEachRule(context.host, (view, _table, chain, rule) => checkRule(context, view.ruleset.family, chain, rule));
  },
});

function describeProtocol(rule: Rule): string {
  const p = rule.protocol;
  if (!p) return 'has no -p';
  return p.negated ? `has "! -p ${p.name}"` : `has -p ${p.name}`;
}

function portCapable(rule: Rule): boolean {
  return rule.protocol !== undefined && !rule.protocol.negated && PORT_NUMBERS.has(rule.protocol.number);
}

/** Cheap pre-check: only rules with a port match, a free-form module or target, or a NAT target can be findings. */
function candidate(rule: Rule): boolean {
  const t = rule.target?.kind;
  if (t === 'other' || t === 'DNAT' || t === 'SNAT' || t === 'MASQUERADE' || t === 'REDIRECT') return true;
  for (const m of rule.matches) if (m.kind === 'opaque' || m.kind === 'unknown' || hasPorts(m)) return true;
  return false;
}

function checkRule(context: RuleContext<MessageId>, family: Family, chain: Chain, rule: Rule): void {
  if (!candidate(rule)) return;
  const base = () => ({ table: rule.table, has: describeProtocol(rule) });
  // A typed port match under the wrong protocol.
  for (const m of rule.matches) {
    if (!hasPorts(m)) continue;
    const needs = protocolFor(m, rule);
    const p = rule.protocol;
    if (p && !p.negated && (m.kind === 'multiport' ? PORT_NUMBERS.has(p.number) : p.number === PORT_PROTOCOL_NUMBERS[needs])) continue;
    const option = m.options.find((o) => PORT_OPTIONS.has(o.name)) ?? m.options[0];
    // "! -p tcp --dport 22" most often means UDP port 22; a match with more than ports (tcp flags …) keeps its own protocol.
    const onlyPorts = m.options.every((o) => PORT_OPTIONS.has(o.name));
    const swap = p?.negated === true && onlyPorts && m.kind !== 'multiport' && p.number === PORT_PROTOCOL_NUMBERS[needs];
    const fixProtocol = swap ? (needs === 'tcp' ? 'udp' : 'tcp') : needs;
    const fixed = swap
      ? specWith(rule, { protocol: protocolNamed(fixProtocol), matches: rule.matches.map((x) => (x === m ? printableMatch(fixProtocol, m.options, rule) : x)) })
      : specWith(rule, { protocol: protocolNamed(fixProtocol) });
    context.report({
      at: rule.span,
      messageId: p?.negated ? 'negatedProtocol' : 'missingProtocol',
      data: {
        ...base(), option: optionText(option), protocol: p?.name ?? '', module: m.module, needs: m.kind === 'multiport' ? 'tcp, udp, udplite, sctp or dccp' : needs,
        field: FIELD[option?.name ?? ''] ?? 'port', value: option?.values.join(' ') ?? '', fixProtocol,
      },
      fix: replaceRule(family, chain, rule, fixed),
    });
    return;
  }
  // A port option swallowed by an opaque or unknown module, or by a target kept verbatim.
  const owners: { owner: string; options: readonly RawOption[]; match?: Match; kind: 'absorbedByMatch' | 'absorbedByTarget' }[] = [];
  // (Only rules with a free-form module or target get here with owners.)
  for (const m of rule.matches) if (m.kind === 'opaque' || m.kind === 'unknown') owners.push({ owner: m.module, options: m.options, match: m, kind: 'absorbedByMatch' });
  if (rule.target?.kind === 'other') owners.push({ owner: rule.target.name, options: rule.target.options, kind: 'absorbedByTarget' });
  for (const owner of owners) {
    const option = owner.options.find((o) => PORT_OPTIONS.has(o.name));
    if (!option) continue;
    const fixProtocol = portCapable(rule) ? rule.protocol!.name : 'tcp';
    const canonical = { ...option, name: CANONICAL[option.name] ?? option.name };
    const portMatch = printableMatch(MULTIPORT_OPTIONS.has(option.name) ? 'multiport' : fixProtocol, [canonical], rule);
    const without = owner.options.filter((o) => o !== option);
    const matches = [
      ...rule.matches.map((m) => (m === owner.match ? printableMatch(m.module, without, rule) : m)),
      portMatch,
    ];
    const target = owner.kind === 'absorbedByTarget' ? { ...rule.target!, options: without } : rule.target;
    context.report({
      at: rule.span,
      messageId: owner.kind,
      data: { ...base(), option: option.name, owner: owner.owner, fixProtocol },
      fix: replaceRule(family, chain, rule, specWith(rule, { protocol: protocolNamed(fixProtocol), matches, ...(target ? { target } : {}) })),
    });
    return;
  }
  // NAT to a port without a port-carrying protocol (only in rulesets built without the parser).
  const t = rule.target;
  const natPorts = t && ((t.kind === 'DNAT' || t.kind === 'SNAT') ? t.to.some((r) => r.portFrom !== undefined)
    : (t.kind === 'MASQUERADE' || t.kind === 'REDIRECT') ? t.toPorts !== undefined : false);
  if (t && natPorts && !portCapable(rule)) {
    context.report({
      at: rule.span,
      messageId: 'natPortWithoutProtocol',
      data: { ...base(), target: t.kind, fixProtocol: 'tcp' },
      fix: replaceRule(family, chain, rule, specWith(rule, { protocol: protocolNamed('tcp') })),
    });
  }
}

function optionText(option: RawOption | undefined): string {
  if (!option) return 'a port option';
  return `${option.negated ? '! ' : ''}${option.name} ${option.values.join(' ')}`.trim();
}
