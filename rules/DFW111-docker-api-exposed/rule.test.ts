import { RuleTester } from '../../test/rule-tester.ts';
import { at, DOCKER0, dockerHost, type Bridge } from '../DFW108-DFW114-lib/fixtures.ts';
import rule from './rule.ts';

const plain = (rules: readonly string[], policy = 'DROP') =>
  `*filter\n:INPUT ${policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n${rules.map((r) => `${r}\n`).join('')}COMMIT\n`;

/** Swarm's gateway bridge: its presence makes the host a Swarm node. */
const gwbridge: Bridge = { name: 'docker_gwbridge', subnet: '172.19.0.0/16', ports: [] };

const api = '-A INPUT -p tcp -m tcp --dport 2375 -j ACCEPT';
const apiBoth = '-A INPUT -p tcp -m multiport --dports 2375,2376 -j ACCEPT';
const managerFromPartner = '-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 2377 -j ACCEPT';
const tls6 = '-A INPUT -p tcp -m tcp --dport 2376 -j ACCEPT';
const ufwAllow = '-A ufw-user-input -p tcp -m tcp --dport 2375 -j ACCEPT';

const pre28Api = dockerHost({ layout: 'pre-28', input: [api] });
const v29Both = dockerHost({ layout: '29', input: [apiBoth] });
const swarmOpen = dockerHost({ layout: '28.2', inputPolicy: 'ACCEPT', bridges: [DOCKER0, gwbridge] });
const partner = plain([managerFromPartner]);
const v6Tls = dockerHost({ layout: '28.2', family: 'ipv6', input: [tls6] });
const ufw = dockerHost({ layout: 'pre-28', input: ['-A INPUT -j ufw-user-input'], chains: ['ufw-user-input'], chainRules: [ufwAllow] });

new RuleTester().run(rule, {
  valid: [
    { name: 'the API from a private network only', code: dockerHost({ layout: 'pre-28', input: ['-A INPUT -s 10.60.0.0/16 -p tcp -m tcp --dport 2375 -j ACCEPT'] }) },
    { name: 'INPUT policy ACCEPT on a host that is not a Swarm node proves no listener', code: dockerHost({ layout: '29', inputPolicy: 'ACCEPT' }) },
    { name: 'Swarm ports from the cluster subnet (private)', code: dockerHost({ layout: '28.2', bridges: [DOCKER0, gwbridge], input: ['-A INPUT -s 10.0.10.0/24 -p tcp -m multiport --dports 2377,7946 -j ACCEPT', '-A INPUT -s 10.0.10.0/24 -p udp -m multiport --dports 7946,4789 -j ACCEPT'] }) },
    { name: 'the API on loopback only', code: plain(['-A INPUT -i lo -p tcp -m tcp --dport 2375 -j ACCEPT']) },
    { name: 'a trusted public address (option)', code: plain(['-A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 2376 -j ACCEPT']), options: { trustedSources: ['198.51.100.7/32'] } },
    { name: 'a DROP for the API above a generic ACCEPT', code: plain(['-A INPUT -p tcp -m tcp --dport 2375 -j DROP', '-A INPUT -p tcp -m tcp --dport 2000:3000 -j ACCEPT']) },
  ],
  invalid: [
    {
      name: 'pre-28 Docker host: the plain-text API from anywhere',
      code: pre28Api,
      errors: [{
        messageId: 'api', ...at(pre28Api, api),
        message: /^INPUT accepts tcp\/2375 — the Docker Engine API without TLS.* — from every public address \(0\.0\.0\.0\/0\) on any interface \(tcp 203\.0\.113\.50:40000 → [0-9.]+:2375 is accepted here\)/,
        fixIncludes: 'iptables -I INPUT 1 -p tcp -m tcp --dport 2375 -j DROP',
      }],
    },
    {
      name: '29: both API ports in one multiport ACCEPT, one finding',
      code: v29Both,
      errors: [{ messageId: 'api', ...at(v29Both, apiBoth), message: /^INPUT accepts tcp\/2375, tcp\/2376 — / }],
    },
    {
      name: 'a Swarm node with INPUT policy ACCEPT: every control port, on the policy',
      code: swarmOpen,
      errors: [{ messageId: 'swarm', ...at(swarmOpen, ':INPUT ACCEPT'), message: /^INPUT accepts Swarm's tcp\/2377, tcp\/7946, udp\/7946, udp\/4789 — .* Allow them only from the other Swarm nodes\.$/ }],
    },
    {
      name: 'Swarm management from a public partner network',
      code: partner,
      errors: [{ messageId: 'swarm', ...at(partner, managerFromPartner), message: /from 198\.51\.100\.0\/24 on any interface/, fixIncludes: 'iptables -I INPUT 1 -p tcp -m tcp --dport 2377 -j DROP' }],
    },
    {
      name: 'IPv6: the TLS API from anywhere',
      code: v6Tls,
      file: 'host.v6.txt',
      errors: [{ messageId: 'api', ...at(v6Tls, tls6), message: /every public address \(::\/0\)/, fixIncludes: 'ip6tables -I INPUT 1 -s fc00::/7 -p tcp -m tcp --dport 2376 -j ACCEPT' }],
    },
    {
      name: 'ufw allow 2375 (ufw-user-input)',
      code: ufw,
      errors: [{ messageId: 'api', ...at(ufw, ufwAllow) }],
    },
  ],
});

