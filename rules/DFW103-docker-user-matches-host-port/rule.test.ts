import { at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const hostPortDrop = '-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 8080 -j DROP';
const hostAddressDrop = '-A DOCKER-USER ! -s 198.51.100.0/24 -d 203.0.113.10/32 -i eth0 -j DROP';
const multiport = '-A DOCKER-USER -i eth0 -p tcp -m multiport --dports 8080,9443 -j DROP';
const both = '-A DOCKER-USER -d 192.0.2.10/32 -p tcp -m tcp --dport 8080 -j DROP';
const webOnly = '-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 80 -j RETURN';

const v282Port = dockerHost({ layout: '28.2', user: [hostPortDrop] });
const pre28Address = dockerHost({ layout: 'pre-28', user: [hostAddressDrop] });
const v29Multiport = dockerHost({
  layout: '29',
  ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80 }, { hostPort: 9443, container: '172.17.0.3', containerPort: 443 }],
  user: [multiport],
});
const pre28Both = dockerHost({
  layout: 'pre-28', ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80, hostAddress: '192.0.2.10' }], user: [both],
});
const v6Port = dockerHost({ layout: '28.2', family: 'ipv6', user: [hostPortDrop] });
const m2b = dockerHost({
  layout: '29',
  ports: [{ hostPort: 80, container: '172.17.0.2', containerPort: 80 }, { hostPort: 8080, container: '172.17.0.3', containerPort: 80 }],
  user: ['-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', webOnly, '-A DOCKER-USER -i eth0 -j DROP'],
});

new RuleTester().run(rule, {
  valid: [
    { name: 'the original port matched with conntrack', code: dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j DROP'] }) },
    { name: 'the container port (what DOCKER-USER sees)', code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 80 -j DROP'] }) },
    {
      name: 'host port and container port are the same',
      code: dockerHost({ layout: 'pre-28', ports: [{ hostPort: 8080, container: '172.17.0.2', containerPort: 8080 }], user: [hostPortDrop] }),
    },
    { name: 'the container address', code: dockerHost({ layout: '28.1', user: ['-A DOCKER-USER -d 172.17.0.2/32 -i eth0 -j DROP'] }) },
    { name: 'a rule below the RETURN is DFW104\'s', code: dockerHost({ layout: 'pre-28', afterReturn: [hostPortDrop] }) },
    { name: 'an egress rule for a remote address (from a bridge)', code: dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -d 8.8.8.8/32 -i docker0 -j DROP'] }) },
    { name: 'a remote address the host is not known to have (no interface, no host addresses given)', code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -d 8.8.8.8/32 -j DROP'] }) },
    {
      name: 'a remote address, with the host addresses given',
      code: dockerHost({ layout: 'pre-28', user: ['-A DOCKER-USER -d 8.8.8.8/32 -i eth0 -j DROP'] }),
      settings: { localAddresses: ['203.0.113.10'] },
    },
    {
      name: 'an ACCEPT for port 80 when no other container is published to port 80',
      code: dockerHost({ layout: '29', ports: [{ hostPort: 80, container: '172.17.0.2', containerPort: 80 }], user: [webOnly, '-A DOCKER-USER -i eth0 -j DROP'] }),
    },
  ],
  invalid: [
    {
      name: '28.2: --dport of the host port (8080 published as 8080:80)',
      code: v282Port,
      errors: [{ messageId: 'hostPort', ...at(v282Port, hostPortDrop), message: /already the container's \(80\)/ }],
    },
    {
      name: 'pre-28: -d of the host address',
      code: pre28Address,
      settings: { localAddresses: ['203.0.113.10'] },
      errors: [{ messageId: 'hostAddress', ...at(pre28Address, hostAddressDrop), message: /-d 203\.0\.113\.10\/32/ }],
    },
    {
      name: 'pre-28: -d of the host address, host addresses not configured',
      code: pre28Address,
      errors: [{ messageId: 'hostAddress', ...at(pre28Address, hostAddressDrop) }],
    },
    {
      name: '29: a multiport list of host ports (the fix is one rule per port)',
      code: v29Multiport,
      errors: [{ messageId: 'hostPort', ...at(v29Multiport, multiport), message: /--dport 8080, 9443/ }],
    },
    {
      name: 'pre-28: host address and host port of a port published on 192.0.2.10',
      code: pre28Both,
      errors: [{ messageId: 'hostAddressAndPort', ...at(pre28Both, both) }],
    },
    {
      name: '28.2 IPv6: --dport of the host port',
      code: v6Port,
      errors: [{ messageId: 'hostPort', ...at(v6Port, hostPortDrop) }],
    },
    {
      name: '29: an ACCEPT for host port 80 also opens another container published as 8080:80 (M2b)',
      code: m2b,
      errors: [{ messageId: 'opensOtherHostPort', ...at(m2b, webOnly), message: /tcp 0\.0\.0\.0:8080 → 172\.17\.0\.3:80/ }],
    },
  ],
});

