import { at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const established = '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN';
const office = '-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN';
const dropRest = '-A DOCKER-USER -i eth0 -j DROP';
const notOffice = '-A DOCKER-USER ! -s 198.51.100.0/24 -i eth0 -j DROP';
const rejectRest = '-A DOCKER-USER -i eth0 -j REJECT --reject-with icmp-port-unreachable';
const udpDrop = '-A DOCKER-USER -i eth0 -p udp -j DROP';
const chainDrop = '-A MYFILTER -j DROP';

const v282 = dockerHost({ layout: '28.2', user: [office, dropRest] });
const pre28 = dockerHost({ layout: 'pre-28', user: [notOffice] });
const v29 = dockerHost({ layout: '29', user: [office, rejectRest] });
const v6 = dockerHost({ layout: '28.2', family: 'ipv6', user: ['-A DOCKER-USER -s 2001:db8:100::/48 -i eth0 -j RETURN', dropRest] });
const udp = dockerHost({ layout: '28.1', user: [udpDrop] });
const chain = dockerHost({
  layout: '29', chains: ['MYFILTER'], user: ['-A DOCKER-USER -i eth0 -j MYFILTER'], chainRules: ['-A MYFILTER -s 198.51.100.0/24 -j RETURN', chainDrop],
});

new RuleTester().run(rule, {
  valid: [
    { name: '28.2: RELATED,ESTABLISHED exempted first', code: dockerHost({ layout: '28.2', user: [established, office, dropRest] }) },
    { name: 'pre-28: RELATED,ESTABLISHED exempted first', code: dockerHost({ layout: 'pre-28', user: [established, notOffice] }) },
    { name: 'a drop of new TCP connections only', code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -i eth0 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'] }) },
    { name: 'a drop of UDP below the ephemeral port range', code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -i eth0 -p udp -m udp --dport 0:32767 -j DROP'] }) },
    { name: 'a rule that never matches after DNAT (DFW103)', code: dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -d 203.0.113.10/32 -i eth0 -j DROP'] }) },
    { name: 'a rule below the RETURN (DFW104)', code: dockerHost({ layout: 'pre-28', afterReturn: [dropRest] }) },
  ],
  invalid: [
    {
      name: '28.2: an allow-list without the exemption',
      code: v282,
      errors: [{ messageId: 'dropsReplies', ...at(v282, dropRest), message: /HTTPS request \(tcp 203\.0\.113\.50:443 → 172\.17\.0\.2:45678/ }],
    },
    {
      name: 'pre-28: a negated-source drop above the RETURN',
      code: pre28,
      errors: [{ messageId: 'dropsReplies', ...at(pre28, notOffice) }],
    },
    {
      name: '29: a REJECT',
      code: v29,
      errors: [{ messageId: 'dropsReplies', ...at(v29, rejectRest), message: /also rejects replies/ }],
    },
    {
      name: '28.2 IPv6: an allow-list without the exemption',
      code: v6,
      errors: [{ messageId: 'dropsReplies', ...at(v6, dropRest), message: /fd00:17::2/ }],
    },
    {
      name: '28.1: a UDP drop hits DNS answers',
      code: udp,
      errors: [{ messageId: 'dropsReplies', ...at(udp, udpDrop), message: /DNS query/ }],
    },
    {
      name: '29: the drop in a chain DOCKER-USER jumps to',
      code: chain,
      errors: [{ messageId: 'dropsReplies', ...at(chain, chainDrop) }],
    },
  ],
});

