import { RuleTester } from '../../test/rule-tester.ts';
import { at, dockerHost } from '../DFW108-DFW114-lib/fixtures.ts';
import rule from './rule.ts';

const wgAccept = '-A FORWARD -i wg0 -j ACCEPT';
const tsJump = '-A FORWARD -j ts-forward';
const conditional = '-A FORWARD -i eth0 -j DOCKER-USER';

const pre28Wg = dockerHost({ layout: 'pre-28', forwardTop: [wgAccept] });
const v282NoJump = dockerHost({ layout: '28.2', noUserJump: true });
const v281Conditional = dockerHost({ layout: '28.1', noUserJump: true, forwardTop: [conditional] });
const v29Tailscale = dockerHost({
  layout: '29', forwardTop: [tsJump], chains: ['ts-forward'],
  chainRules: ['-A ts-forward -i tailscale0 -j MARK --set-xmark 0x40000/0xff0000', '-A ts-forward -m mark --mark 0x40000/0xff0000 -j ACCEPT', '-A ts-forward -o tailscale0 -j ACCEPT'],
});
const nothingPublished = dockerHost({ layout: '29', noUserJump: true, bridges: [{ name: 'docker0', subnet: '172.17.0.0/16' }] });
const v6Wg = dockerHost({ layout: '28.2', family: 'ipv6', forwardTop: [wgAccept] });

/** Docker 20.10's ip6tables layout: no DOCKER-USER at all. */
const v6Without = dockerHost({ layout: 'pre-28', family: 'ipv6' })
  .replace(':DOCKER-USER - [0:0]\n', '').replace('-A FORWARD -j DOCKER-USER\n', '').replace('-A DOCKER-USER -j RETURN\n', '');

new RuleTester().run(rule, {
  valid: [
    { name: 'pre-28 as Docker arranges it', code: dockerHost({ layout: 'pre-28' }) },
    { name: '28.1 as Docker arranges it', code: dockerHost({ layout: '28.1' }) },
    { name: '29 IPv6 as Docker arranges it', code: dockerHost({ layout: '29', family: 'ipv6' }), file: 'host.v6.txt' },
    { name: 'a LOG rule above the jump decides nothing', code: dockerHost({ layout: '28.2', forwardTop: ['-A FORWARD -m limit --limit 3/min -j LOG --log-prefix "FWD "'] }) },
    { name: 'an ACCEPT above the jump for traffic that never goes to a bridge', code: dockerHost({ layout: 'pre-28', forwardTop: ['-A FORWARD -i wg0 -o eth0 -j ACCEPT'] }) },
    { name: 'Docker 20.10 ip6tables: no DOCKER-USER chain, nothing to bypass', code: v6Without, file: 'host.v6.txt' },
  ],
  invalid: [
    {
      name: 'pre-28: an ACCEPT for wg0 inserted above the DOCKER-USER jump',
      code: pre28Wg,
      errors: [{
        messageId: 'bypassed', ...at(pre28Wg, wgAccept),
        message: /^DOCKER-USER is bypassed: tcp 203\.0\.113\.50:40000 → [0-9.]+:8080 arriving on wg0 is accepted by FORWARD line \d+ before the DOCKER-USER jump on line \d+, .*\(published ports affected: tcp\/8080\)/,
        fixIncludes: 'iptables -D FORWARD -j DOCKER-USER\niptables -I FORWARD 1 -j DOCKER-USER',
      }],
    },
    {
      name: '28.2: the DOCKER-USER jump is missing (Docker\'s own jump accepts)',
      code: v282NoJump,
      errors: [{
        messageId: 'bypassed', ...at(v282NoJump, '-A FORWARD -j DOCKER-FORWARD'),
        message: /accepted by DOCKER line \d+ \(entered from FORWARD line \d+\) before any jump to DOCKER-USER \(FORWARD has none\)/,
        fixIncludes: 'iptables -I FORWARD 1 -j DOCKER-USER',
      }],
    },
    {
      name: '28.1: a conditional jump lets other interfaces past',
      code: v281Conditional,
      errors: [{ messageId: 'bypassed', ...at(v281Conditional, '-A FORWARD -j DOCKER-FORWARD'), message: /arriving on any other interface/, fixIncludes: 'iptables -D FORWARD -i eth0 -j DOCKER-USER\niptables -I FORWARD 1 -j DOCKER-USER' }],
    },
    {
      name: '29: tailscaled inserted its jump above DOCKER-USER',
      code: v29Tailscale,
      errors: [{ messageId: 'bypassed', ...at(v29Tailscale, tsJump), message: /arriving on tailscale0 is accepted by ts-forward line \d+ \(entered from FORWARD line \d+\)/ }],
    },
    {
      name: 'nothing published: a DOCKER-USER that nothing jumps to',
      code: nothingPublished,
      errors: [{ messageId: 'unreachable', ...at(nothingPublished, ':DOCKER-USER'), fixIncludes: 'iptables -I FORWARD 1 -j DOCKER-USER' }],
    },
    {
      name: 'IPv6 28.2',
      code: v6Wg,
      file: 'host.v6.txt',
      errors: [{ messageId: 'bypassed', ...at(v6Wg, wgAccept), fixIncludes: 'ip6tables -I FORWARD 1 -j DOCKER-USER' }],
    },
  ],
});

