import { RuleTester } from '../../test/rule-tester.ts';
import { at, DOCKER0, DOCKER0_V6, dockerHost, type Bridge } from '../DFW108-DFW114-lib/fixtures.ts';
import rule from './rule.ts';

const kibana: Bridge = { name: 'br-06da087e072f', subnet: '172.19.0.0/16', ports: [{ hostPort: 5601, container: '172.19.0.2', containerPort: 5601 }] };
const lab: Bridge = { name: 'br-79dc417abe36', subnet: '172.30.0.0/24', mode: 'nat-unprotected', ports: [{ hostPort: 8888, container: '172.30.0.2', containerPort: 8888 }] };
const routed6: Bridge = { name: 'br-3ddcb36c94ef', subnet: '2001:db8:77:1::/64', mode: 'routed', ports: [{ hostPort: 443, container: '2001:db8:77:1::2', containerPort: 443 }] };

const officeOnly = '-A DOCKER ! -s 10.30.0.0/16 -d 172.19.0.2/32 -o br-06da087e072f -p tcp -m tcp --dport 5601 -j DROP';
const banNoOut = '-A DOCKER -s 203.0.113.66/32 -j DROP';
const acceptInDocker = '-A DOCKER -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j ACCEPT';
const natSkip = '-A DOCKER -s 203.0.113.66/32 -j RETURN';
const forwardBan = '-A DOCKER-FORWARD -s 203.0.113.66/32 -j DROP';
const v6Edit = '-A DOCKER -s 2001:db8:bad::/48 -o docker0 -j DROP';

const pre28 = dockerHost({ layout: 'pre-28', bridges: [DOCKER0, kibana], dockerTop: [officeOnly] });
const v281NoOut = dockerHost({ layout: '28.1', dockerTop: [banNoOut] });
const v282Accept = dockerHost({ layout: '28.2', dockerTop: [acceptInDocker] });
const natEdited = dockerHost({ layout: 'pre-28', natDockerTop: [natSkip] });
const v29Forward = dockerHost({ layout: '29', chainRules: [forwardBan] });
const v6 = dockerHost({ layout: '28.2', family: 'ipv6', dockerTop: [v6Edit] });

new RuleTester().run(rule, {
  valid: [
    { name: 'pre-28 as Docker writes it, two networks', code: dockerHost({ layout: 'pre-28', bridges: [DOCKER0, kibana] }) },
    { name: '28.1 with a nat-unprotected network', code: dockerHost({ layout: '28.1', bridges: [DOCKER0, lab] }) },
    { name: '28.2 with userland-proxy off', code: dockerHost({ layout: '28.2', proxy: false, bridges: [DOCKER0, kibana] }) },
    { name: '29 as Docker writes it', code: dockerHost({ layout: '29', bridges: [DOCKER0, lab] }) },
    { name: 'IPv6 28.2 with a routed network', code: dockerHost({ layout: '28.2', family: 'ipv6', bridges: [DOCKER0_V6, routed6] }), file: 'host.v6.txt' },
    { name: 'the admin\'s rules in DOCKER-USER are the admin\'s', code: dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -s 203.0.113.66/32 -j DROP'] }) },
    {
      name: 'an admin chain whose name starts with DOCKER is not Docker\'s',
      code: dockerHost({ layout: 'pre-28', chains: ['DOCKER-LOCAL'], chainRules: ['-A DOCKER-LOCAL -j DROP'], forward: ['-A FORWARD -j DOCKER-LOCAL'] }),
    },
  ],
  invalid: [
    {
      name: 'pre-28: an office-only DROP inserted into filter DOCKER, moved to DOCKER-USER by the fix',
      code: pre28,
      errors: [{
        messageId: 'edited', ...at(pre28, officeOnly),
        message: /^filter chain DOCKER is owned by Docker, which did not write this rule: .* Put it in DOCKER-USER instead\.$/,
        fixIncludes: `iptables -D DOCKER ${officeOnly.slice('-A DOCKER '.length)}\niptables -I DOCKER-USER ${officeOnly.slice('-A DOCKER '.length)}`,
      }],
    },
    {
      name: '28.1: a rule without -o keeps its scope only with the bridge named',
      code: v281NoOut,
      errors: [{ messageId: 'edited', ...at(v281NoOut, banNoOut), message: /add `-o <bridge>` there/ }],
    },
    {
      name: '28.2: an ACCEPT is only deleted by the fix (in DOCKER-USER it would skip isolation)',
      code: v282Accept,
      errors: [{ messageId: 'edited', ...at(v282Accept, acceptInDocker), fixIncludes: 'iptables -D DOCKER -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j ACCEPT' }],
    },
    {
      name: 'nat DOCKER: an admin rule that skips DNAT for one source',
      code: natEdited,
      errors: [{ messageId: 'editedNat', ...at(natEdited, natSkip), fixIncludes: 'iptables -t nat -D DOCKER -s 203.0.113.66/32 -j RETURN' }],
    },
    {
      name: '29: a rule appended to DOCKER-FORWARD',
      code: v29Forward,
      errors: [{ messageId: 'edited', ...at(v29Forward, forwardBan), message: /^filter chain DOCKER-FORWARD is owned by Docker/ }],
    },
    {
      name: 'IPv6 28.2',
      code: v6,
      file: 'host.v6.txt',
      errors: [{ messageId: 'edited', ...at(v6, v6Edit), fixIncludes: 'ip6tables -I DOCKER-USER -s 2001:db8:bad::/48 -o docker0 -j DROP' }],
    },
  ],
});

