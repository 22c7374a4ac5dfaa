import { at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const ban = '-A FORWARD -s 203.0.113.66/32 -j DROP';
const portDrop = '-A FORWARD -i eth0 -o docker0 -p tcp -m tcp --dport 80 -j DROP';
const chainReject = '-A FILTERS -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset';
const directDrop = '-A FORWARD -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -m conntrack ! --ctstate DNAT -j DROP';

const pre28Ban = dockerHost({ layout: 'pre-28', forward: [ban] });
const v282PortDrop = dockerHost({ layout: '28.2', forward: [portDrop] });
const v29Chain = dockerHost({ layout: '29', chains: ['FILTERS'], forward: ['-A FORWARD -j FILTERS'], chainRules: [chainReject] });
const v6Ban = dockerHost({ layout: 'pre-28', family: 'ipv6', forward: ['-A FORWARD -s 2001:db8:66::/48 -j DROP'] });
const pre28Direct = dockerHost({ layout: 'pre-28', forward: [directDrop] });
const v281Reject = dockerHost({ layout: '28.1', forward: ['-A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset'] });

new RuleTester().run(rule, {
  valid: [
    { name: 'the ban in DOCKER-USER', code: dockerHost({ layout: 'pre-28', user: ['-A DOCKER-USER -s 203.0.113.66/32 -j DROP'] }) },
    { name: 'FORWARD rules for traffic that never touches a Docker bridge', code: dockerHost({ layout: 'pre-28', forward: ['-A FORWARD -i wg0 -o eth0 -j ACCEPT', '-A FORWARD -i eth0 -o wg0 -j DROP'] }) },
    { name: 'an ACCEPT below Docker\'s rules restricts nothing', code: dockerHost({ layout: '28.2', forward: ['-A FORWARD -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT'] }) },
    { name: '28.2: a drop for a container port Docker does not accept either', code: dockerHost({ layout: '28.2', forward: ['-A FORWARD -o docker0 -p tcp -m tcp --dport 3306 -j DROP'] }) },
    {
      name: "ufw's framework chains below Docker's",
      code: dockerHost({ layout: 'pre-28', chains: ['ufw-after-forward'], forward: ['-A FORWARD -j ufw-after-forward'], chainRules: ['-A ufw-after-forward -j DROP'] }),
    },
    { name: 'the FORWARD rule comes before Docker\'s (after the DOCKER-USER jump)', code: dockerHost({ layout: '29', forward: [] }).replace('-A FORWARD -j DOCKER-FORWARD', `${ban}\n-A FORWARD -j DOCKER-FORWARD`) },
  ],
  invalid: [
    {
      name: 'pre-28: a ban below the per-bridge rules',
      code: pre28Ban,
      errors: [{ messageId: 'afterDocker', ...at(pre28Ban, ban), message: /203\.0\.113\.66:40000 → .*:8080 .*accepted by filter DOCKER line/ }],
    },
    {
      name: '28.2: a port drop below the DOCKER-FORWARD jump',
      code: v282PortDrop,
      errors: [{ messageId: 'afterDocker', ...at(v282PortDrop, portDrop), message: /it would drop/ }],
    },
    {
      name: '29: a REJECT in a chain FORWARD jumps to below Docker\'s rules (the fix moves the jump)',
      code: v29Chain,
      errors: [{ messageId: 'afterDocker', ...at(v29Chain, chainReject), message: /This FILTERS rule .* it would reject/ }],
    },
    {
      name: 'pre-28 IPv6: a ban below the per-bridge rules',
      code: v6Ban,
      errors: [{ messageId: 'afterDocker', ...at(v6Ban, '-s 2001:db8:66::/48 -j DROP') }],
    },
    {
      name: 'pre-28: a drop of direct (not DNATed) access that Docker accepts first',
      code: pre28Direct,
      errors: [{ messageId: 'afterDocker', ...at(pre28Direct, directDrop), message: /container 172\.17\.0\.2 port 80, directly/ }],
    },
    {
      name: '28.1: a REJECT below the DOCKER-FORWARD jump',
      code: v281Reject,
      errors: [{ messageId: 'afterDocker', ...at(v281Reject, '--dport 80 -j REJECT') }],
    },
  ],
});

