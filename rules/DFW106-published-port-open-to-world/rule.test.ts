import { describe, expect, it } from 'vitest';
import { dnatLine, at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule, { isIntendedPublic } from './rule.ts';

const web = { hostPort: 8080, container: '172.17.0.2', containerPort: 80 };
const https = { hostPort: 443, container: '172.17.0.3', containerPort: 443 };
const dns = { hostPort: 5353, container: '172.17.0.4', containerPort: 53, proto: 'udp' as const };

const v29 = dockerHost({ layout: '29' });
const pre28AntiSpoof = dockerHost({ layout: 'pre-28', user: ['-A DOCKER-USER -s 10.0.0.0/8 -i eth0 -j DROP'] });
const partners = dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j ACCEPT'] });
const v6 = dockerHost({ layout: '28.2', family: 'ipv6' });
const udp = dockerHost({ layout: '28.1', ports: [dns] });
const twoPorts = dockerHost({ layout: '29', ports: [web, https] });
const hostAddress = dockerHost({ layout: 'pre-28', ports: [{ ...web, hostAddress: '192.0.2.10' }] });
const blocklist = dockerHost({ layout: '29', user: ['-A DOCKER-USER -i eth0 -m set --match-set crowdsec-blacklists src -j DROP'] });
const bruteForceGuard = dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -i eth0 -m recent --rcheck --seconds 60 --hitcount 10 --name attackers --rsource -j DROP'] });

new RuleTester().run(rule, {
  valid: [
    { name: 'declared public as tcp/8080', code: v29, settings: { intendedPublicPorts: ['tcp/8080'] } },
    { name: 'declared public as a bare port', code: v29, settings: { intendedPublicPorts: ['8080'] } },
    { name: 'declared public in a range', code: v29, settings: { intendedPublicPorts: ['8000-8090'] } },
    {
      name: 'restricted to an office range in DOCKER-USER',
      code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN', '-A DOCKER-USER -i eth0 -j DROP'] }),
    },
    {
      name: 'opened to everyone on purpose by an admin RETURN for the original port',
      code: dockerHost({
        layout: '28.2',
        user: ['-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j RETURN', '-A DOCKER-USER -i eth0 -j DROP'],
      }),
    },
    { name: 'published on 127.0.0.1 (DFW107)', code: dockerHost({ layout: 'pre-28', ports: [{ ...web, hostAddress: '127.0.0.1' }] }) },
    { name: 'only private sources get in', code: dockerHost({ layout: '28.1', user: ['-A DOCKER-USER ! -s 10.0.0.0/8 -i eth0 -j DROP'] }) },
    {
      name: 'an ipset allow-list: only its members get in',
      code: dockerHost({ layout: '29', user: ['-A DOCKER-USER -i eth0 -m set --match-set office src -j RETURN', '-A DOCKER-USER -i eth0 -j DROP'] }),
    },
    {
      name: 'a rate limit that lets connections in is a decision',
      code: dockerHost({ layout: '28.2', user: ['-A DOCKER-USER -i eth0 -m limit --limit 10/sec -j RETURN', '-A DOCKER-USER -i eth0 -j DROP'] }),
    },
    { name: 'new connections dropped on every interface', code: dockerHost({ layout: 'pre-28', user: ['-A DOCKER-USER ! -i docker0 -o docker0 -m conntrack --ctstate NEW -j DROP'] }) },
  ],
  invalid: [
    {
      name: '29: an empty DOCKER-USER',
      code: v29,
      errors: [{ messageId: 'openToWorld', ...at(v29, dnatLine(8080)), message: /open to the internet on any interface \(every source \(0\.0\.0\.0\/0\) can connect\)/ }],
    },
    {
      name: 'pre-28: an anti-spoofing drop does not close the port to the internet',
      code: pre28AntiSpoof,
      errors: [{ messageId: 'openToWorld', ...at(pre28AntiSpoof, dnatLine(8080)), message: /on eth0/ }],
    },
    {
      name: '28.2: partner ACCEPTs without a final DROP',
      code: partners,
      errors: [{ messageId: 'openToWorld', ...at(partners, dnatLine(8080)) }],
    },
    {
      name: '28.2 IPv6',
      code: v6,
      errors: [{ messageId: 'openToWorld', ...at(v6, dnatLine(8080)), message: /every source but fe80::\/10/ }],
    },
    {
      name: '28.1: a UDP port',
      code: udp,
      errors: [{ messageId: 'openToWorld', ...at(udp, dnatLine(5353)), message: /"udp\/5353"/ }],
    },
    {
      name: '29: only the port not declared public',
      code: twoPorts,
      settings: { intendedPublicPorts: ['tcp/443'] },
      errors: [{ messageId: 'openToWorld', ...at(twoPorts, dnatLine(8080)) }],
    },
    {
      name: 'a blocklist ipset in DOCKER-USER leaves the port open to everyone else',
      code: blocklist,
      errors: [{ messageId: 'openToWorldButListed', ...at(blocklist, dnatLine(8080)), message: /except sources that line \d+ \(.*crowdsec-blacklists.*\) may turn away/ }],
    },
    {
      name: 'a brute-force guard (-m recent) is not a restriction',
      code: bruteForceGuard,
      errors: [{ messageId: 'openToWorldButListed', ...at(bruteForceGuard, dnatLine(8080)), message: /on eth0 .*may turn away/ }],
    },
    {
      name: 'pre-28: a port published on one public host address',
      code: hostAddress,
      errors: [{ messageId: 'openToWorld', ...at(hostAddress, dnatLine(8080)), message: /192\.0\.2\.10:8080/ }],
    },
  ],
});

describe('intendedPublicPorts entries', () => {
  it('match by protocol, port and range', () => {
    expect(isIntendedPublic(['tcp/443'], 'tcp', 443)).toBe(true);
    expect(isIntendedPublic(['tcp/443'], 'udp', 443)).toBe(false);
    expect(isIntendedPublic(['443'], 'udp', 443)).toBe(true);
    expect(isIntendedPublic(['udp/10000-10003'], 'udp', 10002)).toBe(true);
    expect(isIntendedPublic(['udp/10000-10003'], 'udp', 10004)).toBe(false);
    expect(isIntendedPublic(['https'], 'tcp', 443)).toBe(false);
  });
});

