import { RuleTester } from '../../test/rule-tester.ts';
import { at, DOCKER0, dockerHost } from '../DFW108-DFW114-lib/fixtures.ts';
import rule from './rule.ts';

const db = { name: 'br-5e1f0c3a9b21', subnet: '172.18.0.0/16', ports: [{ hostPort: 443, container: '172.18.0.2', containerPort: 443 }], containers: ['172.18.0.3'] };
const lab = { name: 'br-79dc417abe36', subnet: '172.30.0.0/24', mode: 'nat-unprotected' as const, ports: [{ hostPort: 8888, container: '172.30.0.2', containerPort: 8888 }] };
const labV6 = { name: 'br-79dc417abe36', subnet: 'fd00:30::/64', mode: 'nat-unprotected' as const, ports: [{ hostPort: 8888, container: 'fd00:30::2', containerPort: 8888 }] };
const empty = { name: 'br-0a1b2c3d4e5f', subnet: '172.19.0.0/16' };

const pre28Open = dockerHost({ layout: 'pre-28', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db] });
const pre28EmptyBridge = dockerHost({ layout: 'pre-28', forwardPolicy: 'ACCEPT', bridges: [empty] });
const unprotected281 = dockerHost({ layout: '28.1', bridges: [DOCKER0, lab] });
const unprotected6 = dockerHost({ layout: '28.2', family: 'ipv6', bridges: [labV6] });
const adminAccept = dockerHost({ layout: 'pre-28', bridges: [DOCKER0], forward: ['-A FORWARD -i eth0 -j ACCEPT'] });
const unprotected29 = dockerHost({ layout: '29', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, lab] });
const pre28Blocklist = dockerHost({ layout: 'pre-28', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db], user: ['-A DOCKER-USER -m set --match-set blocklist src -j DROP'] });

new RuleTester().run(rule, {
  valid: [
    { name: 'pre-28, FORWARD policy DROP', code: dockerHost({ layout: 'pre-28', bridges: [DOCKER0, db] }) },
    { name: '28.1: per-bridge DROP in DOCKER, even with FORWARD ACCEPT', code: dockerHost({ layout: '28.1', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db] }) },
    { name: '28.2: raw per-container drops', code: dockerHost({ layout: '28.2', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db] }) },
    { name: '29 IPv6, nat mode', code: dockerHost({ layout: '29', family: 'ipv6', forwardPolicy: 'ACCEPT' }), file: 'host.v6.txt' },
    {
      name: 'pre-28, FORWARD ACCEPT closed by DOCKER-USER for everything not DNATed',
      code: dockerHost({
        layout: 'pre-28', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db],
        user: ['-A DOCKER-USER ! -i docker0 -o docker0 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP',
          '-A DOCKER-USER ! -i br-5e1f0c3a9b21 -o br-5e1f0c3a9b21 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP'],
      }),
    },
    {
      name: '28.2: a tool accepting all of wg0 above DOCKER-USER; the empty nat bridge proves nothing (a container would get a raw drop)',
      code: dockerHost({ layout: '28.2', bridges: [DOCKER0, empty], forwardTop: ['-A FORWARD -i wg0 -j ACCEPT'] }),
    },
    {
      name: 'pre-28, FORWARD ACCEPT, only an ipset allow-list may reach the bridges',
      code: dockerHost({ layout: 'pre-28', forwardPolicy: 'ACCEPT', bridges: [DOCKER0, db], user: ['-A DOCKER-USER -m set --match-set admins src -j RETURN', '-A DOCKER-USER ! -i docker0 -o docker0 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP', '-A DOCKER-USER ! -i br-5e1f0c3a9b21 -o br-5e1f0c3a9b21 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP'] }),
    },
    {
      name: 'no Docker chains (iptables: false) is DFW114\'s business',
      code: '*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\nCOMMIT\n',
    },
  ],
  invalid: [
    {
      name: 'pre-28 with FORWARD policy ACCEPT behind a blocklist ipset: still reachable to everyone else',
      code: pre28Blocklist,
      errors: [{ messageId: 'reachable', ...at(pre28Blocklist, ':FORWARD ACCEPT'), message: /Affected: 172\.18\.0\.2 on br-5e1f0c3a9b21; 172\.17\.0\.2 on docker0\.$/ }],
    },
    {
      name: 'pre-28 with FORWARD policy ACCEPT: one finding on the policy for every bridge',
      code: pre28Open,
      errors: [{
        messageId: 'reachable', ...at(pre28Open, ':FORWARD ACCEPT'),
        message: /^Unpublished container ports are reachable by routing.*accepted here — Docker ≤27 accepts only published container ports.*Affected: 172\.18\.0\.2 on br-5e1f0c3a9b21; 172\.17\.0\.2 on docker0\.$/,
        fixIncludes: '-I DOCKER-USER 1 ! -i br-5e1f0c3a9b21 -o br-5e1f0c3a9b21 -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -j DROP',
      }],
    },
    {
      name: 'pre-28: a bridge whose containers the dump does not name',
      code: pre28EmptyBridge,
      errors: [{ messageId: 'reachable', ...at(pre28EmptyBridge, ':FORWARD ACCEPT'), message: /Affected: any container on br-0a1b2c3d4e5f\.$/ }],
    },
    {
      name: '28.1 nat-unprotected network: on its ACCEPT in DOCKER',
      code: unprotected281,
      errors: [{
        messageId: 'reachable', ...at(unprotected281, '-A DOCKER ! -i br-79dc417abe36 -o br-79dc417abe36 -j ACCEPT'),
        message: /gateway mode nat-unprotected.*Affected: 172\.30\.0\.2 on br-79dc417abe36\.$/,
      }],
    },
    {
      name: '29 nat-unprotected next to a protected docker0',
      code: unprotected29,
      errors: [{ messageId: 'reachable', ...at(unprotected29, '-A DOCKER ! -i br-79dc417abe36 -o br-79dc417abe36 -j ACCEPT') }],
    },
    {
      name: '28.2 IPv6 nat-unprotected',
      code: unprotected6,
      file: 'host.v6.txt',
      errors: [{
        messageId: 'reachable', ...at(unprotected6, '-A DOCKER ! -i br-79dc417abe36 -o br-79dc417abe36 -j ACCEPT'),
        message: /→ \[fd00:30::2\]:65001 .* from ::\/0 /, fixIncludes: 'ip6tables -I DOCKER-USER 1',
      }],
    },
    {
      name: 'an admin ACCEPT appended to FORWARD takes what Docker leaves',
      code: adminAccept,
      errors: [{ messageId: 'reachable', ...at(adminAccept, '-A FORWARD -i eth0 -j ACCEPT'), message: /arriving on eth0 from 0\.0\.0\.0\/0 is accepted here — FORWARD line \d+ accepts it/ }],
    },
  ],
});

