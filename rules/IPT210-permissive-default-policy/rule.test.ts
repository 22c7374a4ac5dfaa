import { readFileSync } from 'node:fs';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const corpus = (path: string) => readFileSync(new URL(`../../corpus/${path}`, import.meta.url), 'utf8');
const filter = (input: string, forward: string, chains: string[], ...rules: string[]) =>
  ['*filter', `:INPUT ${input} [0:0]`, `:FORWARD ${forward} [0:0]`, ':OUTPUT ACCEPT [0:0]', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');

const docker29 = corpus('docker-layouts/docker-29-internal.txt');
const docker27 = corpus('docker-layouts/docker-27-userland-proxy-false.txt');

new RuleTester().run(rule, {
  valid: [
    { name: 'policy DROP', code: filter('DROP', 'DROP', [], '-A INPUT -i lo -j ACCEPT') },
    { name: 'policy ACCEPT with a final DROP', code: filter('ACCEPT', 'DROP', [], '-A INPUT -i lo -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -j DROP') },
    { name: 'a final REJECT with a comment, then a LOG nobody reaches', code: filter('ACCEPT', 'DROP', [], '-A INPUT -i lo -j ACCEPT', '-A INPUT -m comment --comment "default deny" -j REJECT --reject-with icmp-host-prohibited', '-A INPUT -j LOG') },
    {
      name: 'a final jump to a chain that ends in a REJECT (firewalld, ufw)',
      code: filter('ACCEPT', 'DROP', ['INPUT_ZONES', 'reject-input'], '-A INPUT -j INPUT_ZONES', '-A INPUT -j reject-input', '-A INPUT_ZONES -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT', '-A reject-input -j REJECT --reject-with icmp-host-prohibited'),
    },
    {
      name: 'INPUT and FORWARD share a chain that ends in a DROP behind a goto',
      code: filter('ACCEPT', 'ACCEPT', ['COMMON', 'DENY'], '-A INPUT -j COMMON', '-A FORWARD -j COMMON', '-A COMMON -i lo -j ACCEPT', '-A COMMON -g DENY', '-A DENY -j DROP'),
      options: { forward: 'always' },
    },
    { name: 'FORWARD on a host without Docker is not checked by default', code: filter('DROP', 'ACCEPT', []) },
    { name: 'FORWARD with Docker ≤27 is DFW108\'s', code: docker27.replace(':FORWARD DROP', ':FORWARD ACCEPT') },
    { name: 'the chains option', code: filter('ACCEPT', 'DROP', []), options: { chains: ['FORWARD'] } },
    { name: 'no filter table', code: ['*nat', ':PREROUTING ACCEPT [0:0]', 'COMMIT', ''].join('\n') },
  ],
  invalid: [
    {
      name: 'INPUT accepts by default',
      code: filter('ACCEPT', 'DROP', [], '-A INPUT -i lo -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'),
      errors: [{
        messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7,
        message: 'INPUT accepts by default: its policy is ACCEPT and no rule at its end drops what the rules before did not allow, so every packet to the host that nothing matched is accepted — any service that starts listening is reachable at once. Make sure lo, RELATED,ESTABLISHED and your SSH access are accepted, then set the policy to DROP.',
        fix: 'iptables -t filter -P INPUT DROP',
      }],
    },
    {
      name: 'a conditional DROP at the end is not a default',
      code: filter('ACCEPT', 'DROP', [], '-A INPUT -i lo -j ACCEPT', '-A INPUT -i eth0 -j DROP'),
      errors: [{ messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'a final jump to a chain that may return',
      code: filter('ACCEPT', 'DROP', ['CHECK'], '-A INPUT -j CHECK', '-A CHECK -s 203.0.113.0/24 -j DROP'),
      errors: [{ messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'a loop of jumps (IPT203\'s) drops nothing',
      code: filter('ACCEPT', 'DROP', ['A', 'B'], '-A INPUT -j A', '-A A -g B', '-A B -j A'),
      errors: [{ messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'a goto to a chain that returns ends the walk of the chain that went there',
      code: filter('ACCEPT', 'DROP', ['CHECK'], '-A INPUT -g CHECK', '-A INPUT -j DROP', '-A CHECK -s 203.0.113.0/24 -j DROP'),
      errors: [{ messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'an explicit ACCEPT of everything before the DROP',
      code: filter('ACCEPT', 'DROP', [], '-A INPUT -j ACCEPT', '-A INPUT -j DROP'),
      errors: [{ messageId: 'inputAccepts', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'FORWARD on a Docker 29 host',
      code: docker29.replace(':FORWARD DROP [598402:67619426]', ':FORWARD ACCEPT [598402:67619426]'),
      errors: [{ messageId: 'forwardAcceptsDocker', line: 11, column: 1, endColumn: 9, message: /Docker 29 drops traffic to container ports that are not published/, fix: 'iptables -t filter -P FORWARD DROP' }],
    },
    {
      name: 'FORWARD on any host with forward: always',
      code: filter('DROP', 'ACCEPT', []),
      options: { forward: 'always' },
      errors: [{ messageId: 'forwardAccepts', line: 3, column: 1, endColumn: 9 }],
    },
    {
      name: 'IPv6 with no rules at all',
      code: ['# Generated by ip6tables-save v1.8.9 (nf_tables) on Tue Mar  3 03:33:03 2026', '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT', ''].join('\n'),
      errors: [{ messageId: 'inputAccepts', line: 3, column: 1, endColumn: 7, fix: 'ip6tables -t filter -P INPUT DROP' }],
    },
  ],
});
