import { RuleTester } from '../../test/rule-tester.ts';
import { at, dockerHost, type Bridge, type HostSpec } from '../DFW108-DFW114-lib/fixtures.ts';
import rule from './rule.ts';

const apps: Bridge = {
  name: 'br-48ac498a1080', subnet: '172.18.0.0/16',
  ports: [{ hostPort: 5432, container: '172.18.0.2', containerPort: 5432 }, { hostPort: 8080, container: '172.18.0.3', containerPort: 80 }, { hostPort: 9000, container: '172.18.0.4', containerPort: 9000 }],
};
const apps6: Bridge = { name: 'br-48ac498a1080', subnet: 'fd00:18::/64', ports: [{ hostPort: 5432, container: 'fd00:18::2', containerPort: 5432 }] };

/** A host with ufw's chains wired as ufw wires them, and `userRules` in ufw-user-input (ufw6-* for IPv6). */
function ufwHost(spec: Omit<HostSpec, 'chains' | 'chainRules'>, userRules: readonly string[]): string {
  const p = spec.family === 'ipv6' ? 'ufw6' : 'ufw';
  return dockerHost({
    bridges: [spec.family === 'ipv6' ? apps6 : apps],
    ...spec,
    input: [...(spec.input ?? []), `-A INPUT -j ${p}-before-input`, `-A INPUT -j ${p}-reject-input`],
    chains: [`${p}-before-input`, `${p}-reject-input`, `${p}-user-input`, `${p}-user-limit`, `${p}-user-limit-accept`],
    chainRules: [
      `-A ${p}-before-input -j ${p}-user-input`,
      ...userRules,
      `-A ${p}-user-limit -m limit --limit 3/min -j LOG --log-prefix "[UFW LIMIT BLOCK] "`,
      `-A ${p}-user-limit -j REJECT --reject-with ${spec.family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'}`,
      `-A ${p}-user-limit-accept -j ACCEPT`,
    ],
  });
}

const deny = '-A ufw-user-input -p tcp -m tcp --dport 5432 -j DROP';
const reject = '-A ufw-user-input -p tcp -m tcp --dport 5432 -j REJECT --reject-with tcp-reset';
const limitSet = '-A ufw-user-input -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource';
const limit = '-A ufw-user-input -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource -j ufw-user-limit';
const limitAccept = '-A ufw-user-input -p tcp -m tcp --dport 8080 -j ufw-user-limit-accept';
const allowFrom = '-A ufw-user-input -s 192.168.10.0/24 -p tcp -m tcp --dport 9000 -j ACCEPT';
const multiDeny = '-A ufw-user-input -p tcp -m multiport --dports 5432,9000 -j DROP';
const deny6 = '-A ufw6-user-input -p tcp -m tcp --dport 5432 -j DROP';

const pre28Deny = ufwHost({ layout: 'pre-28' }, [deny]);
const v282Reject = ufwHost({ layout: '28.2' }, [reject]);
const v281Limit = ufwHost({ layout: '28.1' }, [limitSet, limit, limitAccept]);
const v29AllowFrom = ufwHost({ layout: '29' }, [allowFrom]);
const pre28Multi = ufwHost({ layout: 'pre-28' }, [multiDeny]);
const v6Deny = ufwHost({ layout: '28.2', family: 'ipv6' }, [deny6]);

new RuleTester().run(rule, {
  valid: [
    { name: 'ufw allow 8080 (no source limit) agrees with Docker', code: ufwHost({ layout: 'pre-28' }, ['-A ufw-user-input -p tcp -m tcp --dport 8080 -j ACCEPT']) },
    { name: 'ufw deny of a port Docker does not publish', code: ufwHost({ layout: '28.2' }, ['-A ufw-user-input -p tcp -m tcp --dport 22 -j DROP']) },
    { name: 'ufw deny of the UDP port when Docker publishes TCP', code: ufwHost({ layout: '29' }, ['-A ufw-user-input -p udp -m udp --dport 5432 -j DROP']) },
    {
      name: 'allow-from under an INPUT ACCEPT policy restricts nothing anyway',
      code: ufwHost({ layout: 'pre-28', inputPolicy: 'ACCEPT' }, [allowFrom]),
    },
    {
      name: 'DOCKER-USER already drops the published port: the ufw rule is redundant, not misleading',
      code: ufwHost({ layout: '28.2', user: ['-A DOCKER-USER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 5432 --ctdir ORIGINAL -j DROP'] }, [deny]),
    },
    {
      name: 'the port is published on 127.0.0.1 only',
      code: ufwHost({ layout: 'pre-28', bridges: [{ ...apps, ports: [{ hostPort: 5432, container: '172.18.0.2', containerPort: 5432, hostAddress: '127.0.0.1' }] }] }, [deny]),
    },
    { name: 'a deny in INPUT itself is DFW101\'s, not this rule\'s', code: dockerHost({ layout: 'pre-28', bridges: [apps], input: ['-A INPUT -p tcp -m tcp --dport 5432 -j DROP'] }) },
  ],
  invalid: [
    {
      name: 'pre-28: ufw deny 5432/tcp',
      code: pre28Deny,
      errors: [{
        messageId: 'deny', ...at(pre28Deny, deny),
        message: /^ufw denies tcp\/5432 \(ufw-user-input\), but Docker publishes it \(5432 → 172\.18\.0\.2:5432\/tcp\): .* is delivered to container 172\.18\.0\.2 port 5432/,
        fixIncludes: 'iptables -I DOCKER-USER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 5432 --ctdir ORIGINAL -j DROP',
      }],
    },
    {
      name: '28.2: ufw reject keeps its REJECT in the fix',
      code: v282Reject,
      errors: [{ messageId: 'deny', ...at(v282Reject, reject), fixIncludes: '--ctorigdstport 5432 --ctdir ORIGINAL -j REJECT --reject-with tcp-reset' }],
    },
    {
      name: '28.1: ufw limit 8080/tcp, reported once on the rule that limits',
      code: v281Limit,
      errors: [{ messageId: 'limit', ...at(v281Limit, limit), message: /^ufw rate-limits tcp\/8080 .*\(8080 → 172\.18\.0\.3:80\/tcp\)/, fixIncludes: '--update --seconds 30 --hitcount 6 -j DROP' }],
    },
    {
      name: '29: ufw allow from 192.168.10.0/24 to any port 9000',
      code: v29AllowFrom,
      errors: [{
        messageId: 'allowFrom', ...at(v29AllowFrom, allowFrom),
        message: /^ufw allows tcp\/9000 only from 192\.168\.10\.0\/24 .* tcp 203\.0\.113\.50:40000 → /,
        fixIncludes: 'iptables -I DOCKER-USER ! -s 192.168.10.0/24 -p tcp -m conntrack --ctstate DNAT --ctorigdstport 9000 --ctdir ORIGINAL -j DROP',
      }],
    },
    {
      name: 'a multiport deny names two published ports: one finding listing both',
      code: pre28Multi,
      errors: [{ messageId: 'deny', ...at(pre28Multi, multiDeny), message: /^ufw denies tcp\/5432, tcp\/9000 / }],
    },
    {
      name: 'IPv6: ufw6-user-input',
      code: v6Deny,
      file: 'host.v6.txt',
      errors: [{ messageId: 'deny', ...at(v6Deny, deny6), fixIncludes: 'ip6tables -I DOCKER-USER' }],
    },
  ],
});

