import type { Chain, Rule, Ruleset } from '../../grammar/ast.ts';
import { printRuleSpec } from '../../grammar/printer.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const filter = (...rules: string[]) =>
  ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n');
const nat = (...rules: string[]) =>
  ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n');

/** Every rule's -p changes: what a plugin or merge could produce (the parser refuses such text). */
const editProtocol = (edit: (p: Rule['protocol']) => Rule['protocol']) => (rulesets: readonly Ruleset[]): Ruleset[] =>
  rulesets.map((r) => ({
    ...r,
    tables: r.tables.map((t) => ({
      ...t,
      chains: t.chains.map((c): Chain => ({
        ...c,
        rules: c.rules.map((x): Rule => {
          const edited = { ...x, protocol: edit(x.protocol) };
          return { ...edited, text: printRuleSpec(edited) };
        }),
      })),
    })),
  }));
const dropProtocol = editProtocol(() => undefined);

new RuleTester().run(rule, {
  valid: [
    { name: 'ports with their protocol', code: filter('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT', '-A INPUT -p sctp -m sctp --dport 3868 -j ACCEPT') },
    { name: 'a negated protocol without ports', code: filter('-A INPUT ! -p tcp -j DROP') },
    { name: 'negated ports under a plain protocol', code: filter('-A INPUT -p tcp -m tcp ! --dport 22 -j DROP') },
    { name: 'an opaque module with its own options', code: filter('-A INPUT -p tcp -m tcp --dport 22 -m hashlimit --hashlimit-upto 5/sec --hashlimit-name ssh -j ACCEPT') },
    { name: 'NAT to a port with a protocol', code: nat('-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080', '-A POSTROUTING -p udp -j MASQUERADE --to-ports 1024-65535') },
  ],
  invalid: [
    {
      name: 'a port under a negated protocol',
      code: filter('-A INPUT ! -p tcp --dport 22 -j DROP'),
      errors: [{
        messageId: 'negatedProtocol', line: 5, column: 1, endColumn: 37,
        message: '--dport 22 under "! -p tcp": iptables-legacy refuses this rule (the tcp match only works for -p tcp), and iptables-nft loads it as "any protocol but tcp whose transport header has destination port 22" — UDP, SCTP and DCCP ports, and two bytes of any other header. Name the protocol you mean (fix: -p udp).',
        fix: 'iptables -t filter -R INPUT 1 -p udp -m udp --dport 22 -j DROP',
      }],
    },
    {
      name: 'a tcp match with more than ports keeps its protocol',
      code: filter('-A INPUT ! -p tcp -m tcp --dport 22 --tcp-flags SYN,ACK SYN -j DROP'),
      errors: [{ messageId: 'negatedProtocol', line: 5, column: 1, endColumn: 68, fix: 'iptables -t filter -R INPUT 1 -p tcp -m tcp --dport 22 --tcp-flags SYN,ACK SYN -j DROP' }],
    },
    {
      name: 'a port swallowed by an opaque module',
      code: filter('-A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name ssh --dport 22 -j ACCEPT'),
      errors: [{
        messageId: 'absorbedByMatch', line: 5, column: 1, endColumn: 87,
        message: '--dport has no protocol match to belong to (this rule has no -p), so it was read as an option of -m hashlimit, which has no such option: iptables-restore refuses the line (unknown option "--dport") and the whole filter table fails to load. Add the protocol before it (fix: -p tcp).',
        fix: 'iptables -t filter -R INPUT 1 -p tcp -m hashlimit --hashlimit-upto 5/sec --hashlimit-name ssh -m tcp --dport 22 -j ACCEPT',
      }],
    },
    {
      name: 'a multiport option swallowed by an unknown module',
      code: filter('-A INPUT -m geoip --src-cc CN,RU --dports 22,3389 -j DROP'),
      errors: [{ messageId: 'absorbedByMatch', line: 5, column: 1, endColumn: 58, fix: 'iptables -t filter -R INPUT 1 -p tcp -m geoip --src-cc CN,RU -m multiport --dports 22,3389 -j DROP' }],
    },
    {
      name: 'a port swallowed by a target kept verbatim',
      code: filter('-A INPUT -j NFQUEUE --queue-num 1 --dport 53'),
      errors: [{ messageId: 'absorbedByTarget', line: 5, column: 1, endColumn: 45, fix: 'iptables -t filter -R INPUT 1 -p tcp -m tcp --dport 53 -j NFQUEUE --queue-num 1' }],
    },
    {
      name: 'rulesets built without the parser: port matches and NAT ports without -p',
      code: filter('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT') + nat('-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080', '-A POSTROUTING -p udp -j MASQUERADE --to-ports 1024-65535'),
      transform: dropProtocol,
      errors: [
        { messageId: 'missingProtocol', line: 5, column: 1, endColumn: 44, message: /^The tcp match \(--dport 22\) needs -p tcp, but this rule has no -p/, fix: 'iptables -t filter -R INPUT 1 -p tcp -m tcp --dport 22 -j ACCEPT' },
        { messageId: 'missingProtocol', line: 12, column: 1, endColumn: 78 },
        { messageId: 'natPortWithoutProtocol', line: 13, column: 1, endColumn: 58, fix: 'iptables -t nat -R POSTROUTING 1 -p tcp -j MASQUERADE --to-ports 1024-65535' },
      ],
    },
    {
      name: 'multiport under a negated protocol (the parser refuses it, as iptables does)',
      code: filter('-A INPUT -p udp -m multiport --dports 80,443 -j ACCEPT'),
      transform: editProtocol((p) => (p ? { ...p, negated: true } : p)),
      errors: [{ messageId: 'negatedProtocol', line: 5, column: 1, endColumn: 55, message: /^--dports 80,443 under "! -p udp": .*the multiport match only works for -p tcp, udp, udplite, sctp or dccp/ }],
    },
    {
      name: 'IPv6',
      code: '# Generated by ip6tables-save v1.8.9 (nf_tables)\n' + filter('-A INPUT ! -p udp -m udp --dport 546 -j DROP'),
      errors: [{ messageId: 'negatedProtocol', line: 6, column: 1, endColumn: 45, fix: 'ip6tables -t filter -R INPUT 1 -p tcp -m tcp --dport 546 -j DROP' }],
    },
  ],
});
