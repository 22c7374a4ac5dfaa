import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const filter = (...rules: string[]) =>
  ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':DOCKER-USER - [0:0]', ...rules, 'COMMIT', ''].join('\n');

new RuleTester().run(rule, {
  valid: [
    { name: 'options after their module', code: filter('-A INPUT -m conntrack --ctstate NEW -m connlimit --connlimit-above 3 -j DROP', '-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT') },
    { name: 'an opaque module with only its own options', code: filter('-A INPUT -p tcp -m tcp --dport 22 -m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 10 --hashlimit-name ssh -j ACCEPT') },
    { name: 'a target option after its target', code: filter('-A INPUT -m geoip --src-cc CN -j LOG --log-prefix "geo: "') },
    { name: 'names other modules also use are not claimed', code: filter('-A INPUT -m connlabel --label web --set -j ACCEPT') },
    { name: 'port options are IPT207\'s', code: filter('-A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name ssh --dport 22 -j ACCEPT') },
  ],
  invalid: [
    {
      name: '--ctstate swallowed by connlimit',
      code: filter('-A INPUT -p tcp -m tcp --dport 443 -m connlimit --connlimit-above 50 --ctstate NEW -j REJECT --reject-with tcp-reset'),
      errors: [{
        messageId: 'matchOptionAbsorbed', line: 6, column: 1, endColumn: 117,
        message: '--ctstate is an option of the conntrack match, but this rule has no -m conntrack before it, so it was read as an option of -m connlimit, which has no such option: iptables-restore refuses the line (unknown option "--ctstate") and the whole filter table fails to load. Load the module first: -m conntrack --ctstate NEW.',
        fix: 'iptables -t filter -R INPUT 1 -p tcp -m tcp --dport 443 -m connlimit --connlimit-above 50 -m conntrack --ctstate NEW -j REJECT --reject-with tcp-reset',
      }],
    },
    {
      name: '--src-range swallowed by a target kept verbatim',
      code: filter('-A INPUT -j NFQUEUE --queue-num 1 --src-range 10.0.0.1-10.0.0.9'),
      errors: [{ messageId: 'matchOptionAbsorbed', line: 6, column: 1, endColumn: 64, fix: 'iptables -t filter -R INPUT 1 -m iprange --src-range 10.0.0.1-10.0.0.9 -j NFQUEUE --queue-num 1' }],
    },
    {
      name: '--state and --comment swallowed by an unknown module (one finding per rule)',
      code: filter('-A DOCKER-USER -m geoip --src-cc CN,RU --state NEW --comment "no geo" -j DROP'),
      errors: [{ messageId: 'matchOptionAbsorbed', line: 6, column: 1, endColumn: 78, message: /^--state is an option of the state match/, fix: 'iptables -t filter -R DOCKER-USER 1 -m geoip --src-cc CN,RU --comment "no geo" -m state --state NEW -j DROP' }],
      checkFix: false,
    },
    {
      name: 'an ICMP option adds its protocol',
      code: filter('-A INPUT -m limit --limit 1/sec -m hashlimit --hashlimit-upto 1/sec --hashlimit-name ping --icmp-type 8 -j ACCEPT'),
      errors: [{ messageId: 'matchOptionAbsorbed', line: 6, column: 1, endColumn: 114, fix: 'iptables -t filter -R INPUT 1 -p icmp -m limit --limit 1/sec -m hashlimit --hashlimit-upto 1/sec --hashlimit-name ping -m icmp --icmp-type 8 -j ACCEPT' }],
    },
    {
      name: 'a target option before its target',
      code: filter('-A INPUT -m geoip --src-cc CN --log-prefix "geo: " -j LOG'),
      errors: [{
        messageId: 'targetOptionBeforeTarget', line: 6, column: 1, endColumn: 58,
        message: '--log-prefix is an option of the LOG target but comes before -j LOG, so it was read as an option of -m geoip, which has no such option: iptables-restore refuses the line (unknown option "--log-prefix") and the whole filter table fails to load. Put it after -j LOG.',
        fix: 'iptables -t filter -R INPUT 1 -m geoip --src-cc CN -j LOG --log-prefix "geo: "',
      }],
    },
    {
      name: '--mark belongs to -m mark',
      code: filter('-A INPUT -m connlimit --connlimit-above 3 --mark 0x1 -j DROP'),
      errors: [{ messageId: 'matchOptionAbsorbed', line: 6, column: 1, endColumn: 61, fix: 'iptables -t filter -R INPUT 1 -m connlimit --connlimit-above 3 -m mark --mark 0x1 -j DROP' }],
    },
  ],
});
