import { readFileSync } from 'node:fs';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

/** A filter table: lines 1-6 are the header (INPUT, FORWARD, OUTPUT, user chains X and Y), the rules start on line 7. */
const filter = (...rules: string[]) =>
  ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':X - [0:0]', ':Y - [0:0]', ...rules, 'COMMIT', ''].join('\n');

const docker27 = readFileSync(new URL('../../corpus/docker-layouts/docker-27-userland-proxy-false.txt', import.meta.url), 'utf8');

new RuleTester().run(rule, {
  valid: [
    { name: 'different sources', code: filter('-A INPUT -s 10.0.0.1/32 -j DROP', '-A INPUT -s 10.0.0.2/32 -j ACCEPT') },
    { name: 'the narrower rule comes first', code: filter('-A INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j DROP', '-A INPUT -s 10.0.0.0/8 -j ACCEPT') },
    { name: 'a rate-limited rule covers nothing', code: filter('-A INPUT -s 10.0.0.0/8 -m limit --limit 5/min -j ACCEPT', '-A INPUT -s 10.1.2.3/32 -j DROP') },
    { name: 'marks are not modelled', code: filter('-A INPUT -m mark --mark 0x1 -j ACCEPT', '-A INPUT -s 1.2.3.4/32 -m mark --mark 0x1 -j DROP') },
    { name: 'ipsets are not modelled', code: filter('-A INPUT -m set --match-set allow src -j ACCEPT', '-A INPUT -s 1.2.3.4/32 -m set --match-set allow src -j DROP') },
    { name: 'a LOG rule does not end the chain', code: filter('-A INPUT -j LOG', '-A INPUT -j DROP') },
    { name: 'a jump to a chain that may return does not end the chain', code: filter('-A INPUT -j Y', '-A INPUT -s 1.2.3.4/32 -j ACCEPT', '-A Y -s 5.5.5.5/32 -j RETURN', '-A Y -j DROP') },
    { name: 'a port match does not match non-first fragments, the bare protocol does', code: filter('-A INPUT -p tcp -m tcp -j DROP', '-A INPUT -p tcp -j ACCEPT') },
    { name: 'eth0 is narrower than eth+', code: filter('-A INPUT -i eth0 -j DROP', '-A INPUT -i eth+ -j ACCEPT') },
    { name: 'other ports', code: filter('-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 8443 -j DROP') },
    { name: 'other protocol', code: filter('-A INPUT -p tcp -m tcp --dport 53 -j ACCEPT', '-A INPUT -p udp -m udp --dport 53 -j DROP') },
    { name: 'NEW is not ESTABLISHED', code: filter('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -m conntrack --ctstate NEW -j DROP') },
    {
      name: 'CT --notrack in between changes the conntrack state later rules see',
      code: [
        '*raw', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
        '-A PREROUTING -m conntrack --ctstate UNTRACKED -j ACCEPT',
        '-A PREROUTING -p udp -m udp --dport 53 -j CT --notrack',
        '-A PREROUTING -p udp -m conntrack --ctstate UNTRACKED -j DROP',
        'COMMIT', '',
      ].join('\n'),
    },
    { name: 'different ICMP types', code: filter('-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT', '-A INPUT -p icmp -m icmp --icmp-type 0 -j DROP') },
    { name: 'a negated source does not cover the excluded range', code: filter('-A INPUT ! -s 10.0.0.0/8 -j DROP', '-A INPUT -s 10.0.0.1/32 -j ACCEPT') },
    { name: 'covered by an earlier rule that does the same: IPT205\'s', code: filter('-A INPUT -s 192.168.0.0/16 -j DROP', '-A INPUT -s 192.168.7.0/24 -j DROP') },
    { name: 'rules in chains other tools own', code: filter('-A INPUT -j ufw-before-input', '-A ufw-before-input -j ACCEPT', '-A ufw-before-input -p udp -j DROP').replace(':Y - [0:0]', ':Y - [0:0]\n:ufw-before-input - [0:0]') },
    { name: 'the ignoreChains option names the chains to leave alone', options: { ignoreChains: ['INPUT'] }, code: filter('-A INPUT -j ACCEPT', '-A INPUT -j DROP') },
    {
      name: 'rules below Docker\'s DOCKER-USER RETURN are DFW104\'s',
      code: docker27.replace('-A DOCKER-USER -j RETURN\n', '-A DOCKER-USER -j RETURN\n-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 8080 -j DROP\n'),
    },
  ],
  invalid: [
    {
      name: 'a ban below the subnet it belongs to',
      code: filter('-A INPUT -s 10.0.0.0/8 -j ACCEPT', '-A INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j DROP'),
      errors: [{
        messageId: 'shadowed', line: 8, column: 1, endColumn: 57,
        message: 'This rule never matches: `-A INPUT -s 10.0.0.0/8 -j ACCEPT` (rule 1 of INPUT, line 7) comes first and accepts every packet this rule matches, so this rule\'s `DROP` never applies. Move it above line 7 if it should take effect.',
        fix: 'iptables -t filter -D INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j DROP && iptables -t filter -I INPUT 1 -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j DROP',
      }],
    },
    {
      name: 'everything after an unconditional ACCEPT',
      code: filter('-A INPUT -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j DROP', '-A INPUT -j LOG'),
      errors: [
        { messageId: 'shadowed', line: 8, column: 1, endColumn: 42 },
        { messageId: 'shadowed', line: 9, column: 1, endColumn: 16 },
      ],
    },
    {
      name: 'a multiport ACCEPT covers one of its ports',
      code: filter('-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT', '-A INPUT -s 1.2.3.4/32 -p tcp -m tcp --dport 443 -j DROP'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 57 }],
    },
    {
      name: 'port ranges',
      code: filter('-A INPUT -p udp -m udp --dport 1000:2000 -j DROP', '-A INPUT -p udp -m multiport --dports 1500,1600:1700 -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 63 }],
    },
    {
      name: 'an interface wildcard covers the interfaces it names',
      code: filter('-A INPUT -i eth+ -j DROP', '-A INPUT -i eth0 -p tcp -j ACCEPT', '-A INPUT -i ens3 -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 34 }],
    },
    {
      name: 'a negated interface covers every other one',
      code: filter('-A INPUT ! -i lo -j DROP', '-A INPUT -i eth0 -j ACCEPT', '-A INPUT -i lo -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 27 }],
    },
    {
      name: 'a negated protocol covers the others',
      code: filter('-A INPUT ! -p udp -j ACCEPT', '-A INPUT -p tcp -j DROP'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 24 }],
    },
    {
      name: 'a negated source covers addresses outside it',
      code: filter('-A INPUT ! -s 10.0.0.0/8 -j DROP', '-A INPUT -s 192.168.0.1/32 -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 37 }],
    },
    {
      name: 'an address range covers the prefixes inside it',
      code: filter('-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.100 -j DROP', '-A INPUT -s 10.0.0.8/29 -j ACCEPT', '-A INPUT -s 10.0.0.96/29 -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 34 }],
    },
    {
      name: 'conntrack and state matches compare their states',
      code: filter('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -m state --state ESTABLISHED -j DROP'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 46 }],
    },
    {
      name: 'all ICMP but echo-request covers echo-reply',
      code: filter('-A INPUT -p icmp -m icmp ! --icmp-type 8 -j ACCEPT', '-A INPUT -p icmp -m icmp --icmp-type 0 -j DROP', '-A INPUT -p icmp -m icmp --icmp-type 8 -j DROP'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 47 }],
    },
    {
      name: 'a jump to a chain that never returns',
      code: filter('-A INPUT -j X', '-A INPUT -s 1.2.3.4/32 -j ACCEPT', '-A X -j DROP'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 33, message: /hands to X \(which never returns\)/ }],
    },
    {
      name: 'a goto ends the chain',
      code: filter('-A INPUT -i eth0 -g X', '-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT', '-A X -s 10.0.0.0/8 -j ACCEPT'),
      errors: [{ messageId: 'shadowed', line: 8, column: 1, endColumn: 52, message: /hands over \(-g X\)/ }],
    },
    {
      name: 'the same packets, opposite targets',
      code: filter('-A INPUT -s 203.0.113.7/32 -j ACCEPT', '-A INPUT -s 203.0.113.7/32 -j DROP'),
      errors: [{ messageId: 'shadowedContradiction', line: 8, column: 1, endColumn: 35, fix: 'iptables -t filter -D INPUT -s 203.0.113.7/32 -j DROP' }],
    },
    {
      name: 'IPv6 prefixes',
      code: ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', '-A INPUT -s 2001:db8::/32 -j ACCEPT', '-A INPUT -s 2001:db8:1::/48 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset', 'COMMIT', ''].join('\n'),
      errors: [{ messageId: 'shadowed', line: 6, column: 1, endColumn: 87, fix: /^ip6tables -t filter -D INPUT / }],
    },
    {
      name: 'on a Docker host, the admin\'s own rules are compared as anywhere else',
      code: docker27.replace('-A INPUT -i lo -j ACCEPT\n', '-A INPUT -i lo -j ACCEPT\n-A INPUT -p icmp -j DROP\n'),
      errors: [{ messageId: 'shadowed', line: 14, column: 1, endColumn: 49 }],
    },
  ],
});
