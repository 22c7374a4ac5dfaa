// `exposure --json` against schemas/exposure.schema.json: every corpus host,
// and the answers with conditions, partial results and the "other ports" entry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusHosts, REPO_ROOT } from '../corpus-hosts.ts';
import { cli, workspace, type Workspace } from './harness.ts';

const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/exposure.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

function expectValid(text: string): Record<string, unknown> {
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
