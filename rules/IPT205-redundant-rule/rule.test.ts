import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

/** A filter table: lines 1-5 are the header (INPUT, FORWARD, OUTPUT, user chain X), the rules start on line 6. */
const filter = (...rules: string[]) =>
  ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':X - [0:0]', ...rules, 'COMMIT', ''].join('\n');

new RuleTester().run(rule, {
  valid: [
    { name: 'two different sources', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.2/32 -j DROP') },
    { name: 'duplicates of a rate limit each add their own budget', code: filter('-A INPUT -m limit --limit 5/min -j ACCEPT', '-A INPUT -m limit --limit 5/min -j ACCEPT') },
    { name: 'duplicates of recent --update see different state', code: filter('-A INPUT -m recent --update --seconds 60 --hitcount 4 --name ssh -j DROP', '-A INPUT -m recent --update --seconds 60 --hitcount 4 --name ssh -j DROP') },
    { name: 'a MARK in between changes what the copy sees', code: filter('-A INPUT -m mark --mark 0x1 -j ACCEPT', '-A INPUT -j MARK --set-xmark 0x1/0xffffffff', '-A INPUT -m mark --mark 0x1 -j ACCEPT') },
    { name: 'duplicate LOG rules log twice', code: filter('-A INPUT -j LOG', '-A INPUT -j LOG') },
    { name: 'a different target in between overlaps', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.0/24 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -j DROP') },
    { name: 'a LOG in between would log the packets', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -j LOG', '-A INPUT -s 10.0.0.0/8 -j DROP') },
    { name: 'the later rule has a different target', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.0/8 -j REJECT') },
    { name: 'the later rule is narrower', code: filter('-A INPUT -s 10.0.0.0/8 -j DROP', '-A INPUT -s 10.0.0.1/32 -j DROP') },
    { name: 'the rule has a stateful match of its own', code: filter('-A INPUT -s 10.0.0.1/32 -m limit --limit 1/sec -j DROP', '-A INPUT -s 10.0.0.0/8 -j DROP') },
    { name: 'the later rule tests something the model does not understand', code: filter('-A INPUT -s 10.0.0.1/32 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -m owner --uid-owner 0 -j ACCEPT') },
    { name: 'a shadowed rule is IPT204\'s, not redundant here', code: filter('-A INPUT -s 10.0.0.0/8 -j DROP', '-A INPUT -s 10.0.0.1/32 -j DROP') },
    { name: 'a rule only a shadowed rule would catch', code: filter('-A INPUT -s 10.0.0.1/32 -m comment --comment ban -j DROP', '-A INPUT -s 10.0.0.1/32 -j DROP') },
    { name: 'a ban that keeps a later ACCEPT from applying is not redundant', code: filter('-A INPUT -s 198.51.100.9/32 -j DROP', '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT', '-A INPUT -j DROP') },
    { name: 'jumps are not terminating: both calls run', code: filter('-A INPUT -s 10.0.0.1/32 -j X', '-A INPUT -j X', '-A X -j LOG') },
  ],
  invalid: [
    {
      name: 'an exact duplicate with a test the model does not understand',
      code: filter('-A INPUT -m owner --uid-owner 0 -j ACCEPT', '-A INPUT -m owner --uid-owner 0 -j ACCEPT'),
      errors: [{
        messageId: 'duplicate', line: 7, column: 1, endColumn: 42,
        message: 'Duplicate of `-A INPUT -m owner --uid-owner 0 -j ACCEPT` (line 6): that copy comes first in INPUT and already accepts every packet this one matches, and nothing in between changes those packets, so this copy never matches. Removing it changes nothing.',
        fix: 'iptables -t filter -D INPUT -m owner --uid-owner 0 -j ACCEPT',
      }],
    },
    {
      name: 'a duplicate with unrelated rules in between',
      code: filter('-A INPUT -p tcp -m tcp --dport 22 -m string --algo bm --string "SSH-1" -j DROP', '-A INPUT -s 10.0.0.0/8 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -m string --algo bm --string "SSH-1" -j DROP'),
      errors: [{ messageId: 'duplicate', line: 8, column: 1, endColumn: 79 }],
    },
    {
      name: 'a host inside a subnet dropped later anyway',
      code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 192.168.0.0/16 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -j DROP'),
      errors: [{
        messageId: 'subsumed', line: 6, column: 1, endColumn: 32,
        message: 'Redundant: every packet this rule matches would also reach `-A INPUT -s 10.0.0.0/8 -j DROP` (rule 3 of INPUT, line 8), which does the same (`DROP`), and no rule in between handles those packets differently. Removing it changes nothing.',
        fix: 'iptables -t filter -D INPUT -s 10.0.0.1/32 -j DROP',
      }],
    },
    {
      name: 'a port accepted again by a later multiport rule',
      code: filter('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -p udp -j DROP', '-A INPUT -p tcp -m multiport --dports 22,80 -j ACCEPT'),
      errors: [{ messageId: 'subsumed', line: 6, column: 1, endColumn: 44 }],
    },
    {
      name: 'rules with the same outcome in between are no obstacle',
      code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.0/16 -j DROP', '-A INPUT -s 10.0.0.0/8 -j DROP'),
      errors: [
        { messageId: 'subsumed', line: 6, column: 1, endColumn: 32, message: /line 7/ },
        { messageId: 'subsumed', line: 7, column: 1, endColumn: 32, message: /line 8/ },
      ],
      checkFix: false,
    },
    {
      name: 'IPv6: an ICMPv6 type accepted again by the protocol',
      code: ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', '-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT', '-A INPUT -s fe80::/10 -p ipv6-icmp -j ACCEPT', 'COMMIT', ''].join('\n'),
      errors: [{ messageId: 'subsumed', line: 5, column: 1, endColumn: 72, fix: /^ip6tables -t filter -D INPUT -s fe80::\/10 / }],
    },
  ],
});
