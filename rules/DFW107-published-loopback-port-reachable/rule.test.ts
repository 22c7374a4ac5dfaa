import { at, dnatLine, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const db = { hostPort: 5432, container: '172.17.0.2', containerPort: 5432, hostAddress: '127.0.0.1' };
const lanOnly = { hostPort: 8080, container: '172.17.0.2', containerPort: 80, hostAddress: '192.0.2.10' };
const notDnat = '-A DOCKER-USER ! -i docker0 -o docker0 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP';

const pre28 = dockerHost({ layout: 'pre-28', ports: [db] });
const pre28HostAddress = dockerHost({ layout: 'pre-28', ports: [lanOnly] });
const v282NoRaw = dockerHost({ layout: '28.2', ports: [db], noRaw: true });
const pre28Crafted = dockerHost({ layout: 'pre-28', ports: [db], user: [notDnat] });
const v6HostAddress = dockerHost({ layout: 'pre-28', family: 'ipv6', ports: [{ hostPort: 8080, container: 'fd00:17::2', containerPort: 80, hostAddress: '2001:db8::10' }] });

new RuleTester().run(rule, {
  valid: [
    { name: '28.1: per-port raw drops and the loopback raw drop', code: dockerHost({ layout: '28.1', ports: [db] }) },
    { name: '28.2: per-container raw drop and the loopback raw drop', code: dockerHost({ layout: '28.2', ports: [db] }) },
    { name: '29', code: dockerHost({ layout: '29', ports: [db] }) },
    {
      name: 'pre-28: DOCKER-USER drops everything new from the external interface',
      code: dockerHost({ layout: 'pre-28', ports: [db], user: ['-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', '-A DOCKER-USER -i eth0 -j DROP'] }),
    },
    { name: 'published on every address (DFW106)', code: dockerHost({ layout: 'pre-28' }) },
  ],
  invalid: [
    {
      name: 'pre-28: published on 127.0.0.1, reachable by routing to the container',
      code: pre28,
      errors: [{ messageId: 'loopbackDirect', ...at(pre28, dnatLine(5432)), message: /moby#45610.*Packets addressed to 127\.0\.0\.1 from any interface reach it too/ }],
    },
    {
      name: 'pre-28: published on one host address',
      code: pre28HostAddress,
      errors: [{ messageId: 'hostAddressDirect', ...at(pre28HostAddress, dnatLine(8080)) }],
    },
    {
      name: '28.2 with the raw rules disabled (DOCKER_INSECURE_NO_IPTABLES_RAW=1)',
      code: v282NoRaw,
      errors: [{ messageId: 'loopbackDirect', ...at(v282NoRaw, dnatLine(5432)) }],
    },
    {
      name: 'pre-28: direct access dropped in DOCKER-USER, but frames addressed to 127.0.0.1 are DNATed',
      code: pre28Crafted,
      errors: [{ messageId: 'loopbackCrafted', ...at(pre28Crafted, dnatLine(5432)), message: /moby#41872/ }],
    },
    {
      name: 'pre-28 IPv6: published on one host address',
      code: v6HostAddress,
      errors: [{ messageId: 'hostAddressDirect', ...at(v6HostAddress, dnatLine(8080)), message: /\[fd00:17::2\]:80/ }],
    },
  ],
});

