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
    { name: 'the later rule is narrower and decides differently', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.0/8 -j ACCEPT') },
    { name: 'the rule has a stateful match of its own', code: filter('-A INPUT -s 10.0.0.1/32 -m limit --limit 1/sec -j DROP', '-A INPUT -s 10.0.0.0/8 -j DROP') },
    { name: 'the later rule tests something the model does not understand', code: filter('-A INPUT -s 10.0.0.1/32 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -m owner --uid-owner 0 -j ACCEPT') },
    { name: 'covered by an earlier rule that decides differently: IPT204\'s', code: filter('-A INPUT -s 10.0.0.0/8 -j ACCEPT', '-A INPUT -s 10.0.0.1/32 -j DROP') },
    { name: 'ufw\'s framework chains are ufw\'s', code: filter('-A ufw-before-input -j ACCEPT', '-A ufw-before-input -j ACCEPT').replace(':X - [0:0]', ':X - [0:0]\n:ufw-before-input - [0:0]') },
    { name: 'a ban that keeps a later ACCEPT from applying is not redundant', code: filter('-A INPUT -s 198.51.100.9/32 -j DROP', '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT', '-A INPUT -j DROP') },
    { name: 'jumps are not terminating: both calls run', code: filter('-A INPUT -s 10.0.0.1/32 -j X', '-A INPUT -j X', '-A X -j LOG') },
  ],
  invalid: [
    {
      name: 'a subset of an earlier rule that does the same',
      code: filter('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT'),
      errors: [{
        messageId: 'coveredByEarlier', line: 7, column: 1, endColumn: 58,
        message: 'Redundant: `-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT` (rule 1 of INPUT, line 6) comes first and already accepts every packet this rule matches, so this rule never matches. Removing it changes nothing.',
        fix: 'iptables -t filter -D INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT',
      }],
    },
    {
      name: 'an exact duplicate',
      code: filter('-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 9100 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 9100 -j ACCEPT'),
      errors: [{ messageId: 'duplicate', line: 8, column: 1, endColumn: 60, message: /^Duplicate of `-A INPUT -s 10.0.0.0\/8 -p tcp -m tcp --dport 9100 -j ACCEPT` \(line 6\)/ }],
    },
    {
      name: 'one line, two sources: the second is inside the first',
      code: filter('-A INPUT -s 10.0.0.0/8,10.1.0.0/16 -j DROP'),
      errors: [{ messageId: 'coveredByEarlier', line: 6, column: 1, endColumn: 43, message: /rule 1 of INPUT, line 6/, fix: 'iptables -t filter -D INPUT -s 10.1.0.0/16 -j DROP' }],
    },
    {
      name: 'a rule only a dead rule would catch is not subsumed by it; the dead one is reported',
      code: filter('-A INPUT -s 10.0.0.1/32 -m comment --comment ban -j DROP', '-A INPUT -s 10.0.0.1/32 -j ACCEPT', '-A INPUT -s 10.0.0.1/32 -j DROP'),
      errors: [{ messageId: 'coveredByEarlier', line: 8, column: 1, endColumn: 32 }],
    },
    {
      name: 'the administrator\'s ufw-user chains are compared',
      code: filter('-A ufw-user-input -p tcp -m tcp --dport 80 -j ACCEPT', '-A ufw-user-input -p tcp -m tcp --dport 80 -j ACCEPT').replace(':X - [0:0]', ':X - [0:0]\n:ufw-user-input - [0:0]'),
      errors: [{ messageId: 'duplicate', line: 8, column: 1, endColumn: 53 }],
    },
    {
      name: 'an exact duplicate with a test the model does not understand',
      code: filter('-A INPUT -m owner --uid-owner 0 -j ACCEPT', '-A INPUT -m owner --uid-owner 0 -j ACCEPT'),
      errors: [{
        messageId: 'duplicate', line: 7, column: 1, endColumn: 42,
        message: 'Duplicate of `-A INPUT -m owner --uid-owner 0 -j ACCEPT` (line 6): that copy comes first in INPUT and already accepts every packet this one matches, so this copy never matches. Removing it changes nothing.',
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
