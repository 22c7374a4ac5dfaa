import { at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const dropInput = '-A INPUT -p tcp -m tcp --dport 8080 -j DROP';
const officeOnly = '-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 8080 -j ACCEPT';

const pre28Drop = dockerHost({ layout: 'pre-28', input: [dropInput] });
const v281Reject = dockerHost({
  layout: '28.1',
  ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80 }, { hostPort: 9000, container: '172.17.0.3', containerPort: 9000 }],
  input: ['-A INPUT -p tcp -m multiport --dports 8080,9000 -j REJECT --reject-with tcp-reset'],
});
const v29AllowList = dockerHost({ layout: '29', input: [officeOnly] });
const v6Drop = dockerHost({ layout: '28.2', family: 'ipv6', input: [dropInput] });
const jumpToBlock = dockerHost({
  layout: 'pre-28', chains: ['BLOCK'], input: ['-A INPUT -p tcp -m tcp --dport 8080 -j BLOCK'], chainRules: ['-A BLOCK -j DROP'],
});
const policyOnly = dockerHost({ layout: 'pre-28' });
const lanOnly = dockerHost({ layout: '28.2', input: ['-A INPUT -i eth1 -p tcp -m tcp --dport 8080 -j ACCEPT'] });
const hostAddress = dockerHost({
  layout: 'pre-28',
  ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80, hostAddress: '192.0.2.10' }],
  input: ['-A INPUT -d 192.0.2.10/32 -p tcp -m tcp --dport 8080 -j DROP'],
});

new RuleTester().run(rule, {
  valid: [
    { name: 'an unrestricted ACCEPT of a published port restricts nothing', code: dockerHost({ layout: 'pre-28', input: ['-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT'] }) },
    { name: 'INPUT rules for ports Docker does not publish', code: dockerHost({ layout: '28.2', input: ['-A INPUT -p tcp -m tcp --dport 22 -j DROP'] }) },
    { name: 'the INPUT policy alone (policy option off)', code: policyOnly },
    {
      name: 'a port published on 127.0.0.1 only',
      code: dockerHost({ layout: 'pre-28', ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80, hostAddress: '127.0.0.1' }], input: [dropInput] }),
    },
    {
      name: 'DOCKER-USER restricts the published port the same way (28.2)',
      code: dockerHost({
        layout: '28.2',
        input: [officeOnly],
        user: [
          '-A DOCKER-USER -s 198.51.100.0/24 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j RETURN',
          '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j DROP',
        ],
      }),
    },
    {
      name: 'the raw table drops the same traffic',
      code: dockerHost({ layout: 'pre-28', input: [dropInput] }).replace('*filter', '*raw\n-A PREROUTING -p tcp -m tcp --dport 8080 -j DROP\nCOMMIT\n*filter'),
    },
    { name: 'INPUT names the container port, not the host port', code: dockerHost({ layout: '29', input: ['-A INPUT -p tcp -m tcp --dport 80 -j DROP'] }) },
    {
      name: "ufw's user chains are DFW110's",
      code: dockerHost({ layout: 'pre-28', chains: ['ufw-user-input'], input: ['-A INPUT -j ufw-user-input'], chainRules: ['-A ufw-user-input -p tcp -m tcp --dport 8080 -j DROP'] }),
    },
  ],
  invalid: [
    {
      name: 'pre-28: INPUT drops a published port',
      code: pre28Drop,
      errors: [{ messageId: 'dropped', ...at(pre28Drop, dropInput), message: /DNATed to 172\.17\.0\.2:80 by nat DOCKER line \d+, accepted by filter DOCKER line/ }],
    },
    {
      name: '28.1: a multiport REJECT names two published ports',
      code: v281Reject,
      errors: [{ messageId: 'dropped', ...at(v281Reject, '--dports 8080,9000 -j REJECT'), message: /rejects tcp\/8080, tcp\/9000/ }],
    },
    {
      name: '29: an allow-list under the INPUT DROP policy',
      code: v29AllowList,
      errors: [{ messageId: 'allowList', ...at(v29AllowList, officeOnly), message: /only from 198\.51\.100\.0\/24/ }],
    },
    {
      name: '28.2 IPv6: ip6tables INPUT drops a published port',
      code: v6Drop,
      errors: [{ messageId: 'dropped', ...at(v6Drop, dropInput), message: /\[fd00:17::2\]:80/ }],
    },
    {
      name: 'a jump that sends the published port to a dropping chain',
      code: jumpToBlock,
      errors: [{ messageId: 'dropped', ...at(jumpToBlock, '-j BLOCK'), message: /filters tcp\/8080/ }],
    },
    {
      name: 'policy option: the INPUT DROP policy does not cover the published port',
      code: policyOnly,
      options: { policy: true },
      errors: [{ messageId: 'policy', line: 2, column: 1, endColumn: 7 }],
    },
    {
      name: 'an interface allow-list, with the external interfaces configured',
      code: lanOnly,
      settings: { externalInterfaces: ['eth0', 'eth1'] },
      errors: [{ messageId: 'allowList', ...at(lanOnly, '-i eth1 -p tcp'), message: /only from any source on eth1/ }],
    },
    {
      name: 'a port published on one host address, dropped by INPUT for that address',
      code: hostAddress,
      errors: [{ messageId: 'dropped', ...at(hostAddress, '-d 192.0.2.10/32 -p tcp') }],
    },
  ],
});

