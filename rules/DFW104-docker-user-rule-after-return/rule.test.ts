import { at, dockerHost } from '../DFW101-DFW107-lib/fixtures.ts';
import { RuleTester } from '../../test/rule-tester.ts';
import rule from './rule.ts';

const established = '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN';
const office = '-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN';
const dropRest = '-A DOCKER-USER -i eth0 -j DROP';

const pre28Two = dockerHost({ layout: 'pre-28', afterReturn: [office, dropRest] });
const v281One = dockerHost({ layout: '28.1', afterReturn: [dropRest] });
const v6 = dockerHost({ layout: '28.2', family: 'ipv6', afterReturn: ['-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j DROP'] });
const v29Own = dockerHost({ layout: '29', user: ['-A DOCKER-USER -j RETURN', dropRest] });
const commented = dockerHost({ layout: '28.2', userReturn: false, user: ['-A DOCKER-USER -m comment --comment "end of my rules" -j RETURN', dropRest] });

new RuleTester().run(rule, {
  valid: [
    { name: 'pre-28: rules inserted above the RETURN', code: dockerHost({ layout: 'pre-28', user: [established, office, dropRest] }) },
    { name: '29: no RETURN, rules fall through', code: dockerHost({ layout: '29', user: [established, office, dropRest] }) },
    { name: 'a conditional RETURN before other rules', code: dockerHost({ layout: '28.2', user: [office, dropRest] }) },
    { name: "Docker's RETURN as the last rule", code: dockerHost({ layout: '28.1' }) },
  ],
  invalid: [
    {
      name: 'pre-28: two rules appended after Docker\'s RETURN (each is reported)',
      code: pre28Two,
      errors: [{ messageId: 'afterReturn', ...at(pre28Two, office) }, { messageId: 'afterReturn', ...at(pre28Two, dropRest) }],
    },
    {
      name: '28.1: a DROP appended after Docker\'s RETURN',
      code: v281One,
      errors: [{ messageId: 'afterReturn', ...at(v281One, dropRest), message: /DOCKER-USER line \d+ \(`-A DOCKER-USER -j RETURN`\)/ }],
    },
    {
      name: '28.2.1 IPv6: a DROP appended after Docker\'s RETURN',
      code: v6,
      errors: [{ messageId: 'afterReturn', ...at(v6, '--ctorigdstport 8080 --ctdir ORIGINAL -j DROP') }],
    },
    {
      name: "29: the administrator's own unconditional RETURN",
      code: v29Own,
      errors: [{ messageId: 'afterReturn', ...at(v29Own, dropRest) }],
    },
    {
      name: 'a RETURN with only a comment is unconditional',
      code: commented,
      errors: [{ messageId: 'afterReturn', ...at(commented, dropRest) }],
    },
  ],
});

