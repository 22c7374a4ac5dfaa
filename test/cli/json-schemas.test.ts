// `exposure --json` and `trace --json` against their schemas (schemas/): every
// corpus host, and the answers with conditions, partial results and the
// "other ports" entry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusHosts, REPO_ROOT } from '../corpus-hosts.ts';
import { cli, workspace, type Workspace } from './harness.ts';

const ajv = new Ajv({ allErrors: true, strict: true });
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', name), 'utf8')));
const validateExposure = schema('exposure.schema.json');
const validateTrace = schema('trace.schema.json');

function expectValid(text: string, validate = validateExposure): Record<string, unknown> {
  const document = JSON.parse(text) as Record<string, unknown>;
  validate(document);
  expect(validate.errors ?? []).toEqual([]);
  return document;
}

let ws: Workspace;
beforeAll(() => {
  ws = workspace(undefined);
});

describe('exposure --json follows schemas/exposure.schema.json', () => {
  for (const host of corpusHosts()) {
    it(host.name, async () => {
      const r = await cli(ws, ['exposure', '--json', ...host.files.map((f) => join(REPO_ROOT, f))]);
      expect(r.code).toBe(0);
      expectValid(r.stdout);
    });
  }

  it('with conditions, a partial answer and the entry for every other port', async () => {
    ws.write('special.txt', [
      '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
      '-A INPUT -p tcp -m tcp --dport 80 -m set --match-set blocked src -j DROP',
      '-A INPUT -s 0.0.0.0/0.0.0.255 -p tcp -m tcp --dport 22 -j DROP',
      'COMMIT', '',
    ].join('\n'));
    const document = expectValid((await cli(ws, ['exposure', '--json', 'special.txt'])).stdout) as {
      rulesets: { host: { hostPort: number; conditionallyReachableFrom: unknown[]; partial?: string; otherPorts?: true }[] }[];
    };
    const host = document.rulesets[0]!.host;
    expect(host.find((e) => e.hostPort === 80)?.conditionallyReachableFrom).toHaveLength(1);
    expect(host.find((e) => e.hostPort === 22)?.partial).toContain('0.0.0.0/0.0.0.255');
    expect(host.some((e) => e.otherPorts === true)).toBe(true);
  });
});

describe('trace --json follows schemas/trace.schema.json', () => {
  for (const host of corpusHosts()) {
    it(host.name, async () => {
      const file = join(REPO_ROOT, host.files[0]!);
      const exposure = JSON.parse((await cli(ws, ['exposure', '--json', file])).stdout) as {
        rulesets: { family: string; published: { hostAddress: string; hostPort: number; proto: string }[] }[];
      };
      const published = exposure.rulesets[0]?.published ?? [];
      const family = exposure.rulesets[0]?.family;
      const ipv6 = family === 'ipv6';
      const asks: string[][] = [
        ['--dst', ipv6 ? '2001:db8::10' : '203.0.113.10', '--dport', '22'],
        ['--from-host', '--dst', ipv6 ? '::1' : '127.0.0.1', '--dport', '8080'],
        ['--dst', ipv6 ? '2001:db8::10' : '203.0.113.10', '--proto', 'udp', '--dport', '53', '--state', 'ESTABLISHED', '--mark', '0x4000'],
        ...published.slice(0, 3).map((p) => ['--dst', p.hostAddress === '0.0.0.0' || p.hostAddress === '::' ? (ipv6 ? '2001:db8::10' : '203.0.113.10') : p.hostAddress, '--proto', p.proto, '--dport', String(p.hostPort)]),
      ];
      for (const ask of asks) {
        const r = await cli(ws, ['trace', file, '--json', ...ask]);
        expect(r.code, r.stderr).toBe(0);
        expectValid(r.stdout, validateTrace);
      }
    });
  }
});
