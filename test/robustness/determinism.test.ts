// Determinism: the bundled CLI, as a child process, prints byte-identical output
// (every format, and the inspection commands) whatever the order the files are
// given in (or a directory walk), the locale (LC_ALL / LANG: collation differs
// in Danish, Czech, Turkish …), the time zone and the libuv thread-pool size.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dockerHostRuleset } from '../../scripts/gen/index.mjs';
import { bundleCli, inPairs, runCli, type CliRun } from './cli-bundle.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const CORPUS: Readonly<Record<string, string>> = {
  'm01.txt': 'corpus/mistakes/m01-input-drop-published-port.txt',
  'web.v4.txt': 'corpus/mistakes/m06-ipv6-open.v4.txt',
  'web.v6.txt': 'corpus/mistakes/m06-ipv6-open.v6.txt',
  'ufw.txt': 'corpus/hardened/ufw-docker.txt',
  'internal.txt': 'corpus/docker-layouts/docker-29-internal.txt',
  'broken.txt': 'corpus/invalid/unterminated-quote.txt',
  'empty.txt': 'corpus/other/empty.txt',
};

/**
 * A Docker host whose bridge names sort differently by locale: Danish collates "aa" as "å",
 * after "z" (br-aa… after br-ff…); Czech collates "ch" after "h".
 */
function localeSensitiveHost(): string {
  let text = dockerHostRuleset({ bridges: 3, publishedPorts: 12, seed: 5, layout: '27' });
  const names = [...new Set(text.match(/br-[0-9a-f]{12}/g) ?? [])];
  text = text.split(names[0]!).join('br-aa00000000a1').split(names[1]!).join('br-ff00000000f2');
  return text;
}

const FORMATS = ['text', 'json', 'sarif', 'github', 'junit'] as const;
const BASE_ENV = { LC_ALL: 'C', LANG: 'C', TZ: 'UTC', UV_THREADPOOL_SIZE: '4' };
const DANISH = { LC_ALL: 'da_DK.UTF-8', LANG: 'da_DK.UTF-8', TZ: 'Europe/Copenhagen', UV_THREADPOOL_SIZE: '1' };
const ENVIRONMENTS: readonly Record<string, string>[] = [
  DANISH,
  { LC_ALL: 'tr_TR.UTF-8', LANG: 'tr_TR.UTF-8', TZ: 'Pacific/Chatham', UV_THREADPOOL_SIZE: '64' },
  { LC_ALL: 'cs_CZ.UTF-8', LANG: 'cs_CZ.UTF-8', TZ: 'America/St_Johns', UV_THREADPOOL_SIZE: '8' },
  { LC_ALL: 'ja_JP.UTF-8', LANG: 'ja_JP.UTF-8', TZ: 'Asia/Kathmandu', UV_THREADPOOL_SIZE: '2' },
];
/** Formats every environment is checked with; the rest with the first two environments. */
const MAIN_FORMATS = new Set(['text', 'json']);

let cli: string;
let cwd: string;
const files = [...Object.keys(CORPUS), 'locale.txt'].sort().map((f) => `hosts/${f}`);

beforeAll(async () => {
  cli = await bundleCli();
  cwd = mkdtempSync(join(tmpdir(), 'dockfw-determinism-'));
  mkdirSync(join(cwd, 'hosts'));
  for (const [name, source] of Object.entries(CORPUS)) copyFileSync(join(ROOT, source), join(cwd, 'hosts', name));
  writeFileSync(join(cwd, 'hosts', 'locale.txt'), localeSensitiveHost());
}, 60_000);

const run = (args: readonly string[], env: Record<string, string> = BASE_ENV) => () => runCli(cli, args, { cwd, env });

function expectSame(label: string, base: CliRun, other: CliRun): void {
  expect(other.code, `${label}: exit code`).toBe(base.code);
  expect(other.stderr, `${label}: stderr`).toBe(base.stderr);
  // Compared as text, not toBe on megabytes of output: the first differing line is the useful part.
  if (other.stdout !== base.stdout) {
    const a = base.stdout.split('\n');
    const b = other.stdout.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    expect(`${label}: line ${i + 1}: ${b[i] ?? '(missing)'}`).toBe(`${label}: line ${i + 1}: ${a[i] ?? '(missing)'}`);
  }
}

describe('byte-identical output', () => {
  it('whatever the order of the files, or a directory walk (every format)', { timeout: 120_000 }, async () => {
    const reversed = [...files].reverse();
    const shuffled = [...files.filter((_, i) => i % 2 === 1), ...files.filter((_, i) => i % 2 === 0)];
    const variants = (format: string) => (MAIN_FORMATS.has(format) ? [reversed, shuffled, ['hosts']] : [reversed]);
    const cases = FORMATS.map((format) => ({ format, variants: variants(format) }));
    const results = await inPairs(cases.flatMap(({ format, variants: v }) => [run(['--format', format, ...files]), ...v.map((args) => run(['--format', format, ...args]))]));
    let k = 0;
    for (const { format, variants: v } of cases) {
      const base = results[k++]!;
      expect(base.code, `${format}: findings and a parse error`).toBe(2);
      expect(base.stdout.length).toBeGreaterThan(100);
      v.forEach((args) => expectSame(`${format}, files as ${args.join(' ')}`, base, results[k++]!));
    }
  });

  it('whatever the locale, the time zone and the thread-pool size (every format)', { timeout: 120_000 }, async () => {
    const cases = FORMATS.map((format) => ({ format, envs: MAIN_FORMATS.has(format) ? ENVIRONMENTS : ENVIRONMENTS.slice(0, 2) }));
    const results = await inPairs(cases.flatMap(({ format, envs }) => [run(['--format', format, 'hosts']), ...envs.map((env) => run(['--format', format, 'hosts'], env))]));
    let k = 0;
    for (const { format, envs } of cases) {
      const base = results[k++]!;
      for (const env of envs) expectSame(`${format} under ${JSON.stringify(env)}`, base, results[k++]!);
    }
  });

  it('the inspection commands (exposure, trace, parse) whatever the locale and time zone', { timeout: 120_000 }, async () => {
    const commands = [
      ['exposure', '--json', 'hosts/locale.txt'],
      ['exposure', 'hosts/web.v4.txt', 'hosts/web.v6.txt'],
      ['trace', 'hosts/m01.txt', '--in', 'eth0', '--src', '198.51.100.5', '--dst', '203.0.113.10', '--proto', 'tcp', '--dport', '8080', '--json'],
      ['parse', '--json', 'hosts/ufw.txt'],
    ];
    const envs = ENVIRONMENTS.slice(0, 3);
    const results = await inPairs(commands.flatMap((args) => [run(args), ...envs.map((env) => run(args, env))]));
    let k = 0;
    for (const args of commands) {
      const base = results[k++]!;
      expect(base.stdout.length, args.join(' ')).toBeGreaterThan(50);
      for (const env of envs) expectSame(`${args.join(' ')} under ${env.LC_ALL}`, base, results[k++]!);
    }
  });

  it('the docker command whatever the locale (src/model/docker/recognise.ts sorted containers by bridge with localeCompare: under LC_ALL=da_DK.UTF-8 br-aa… came after br-ff…)', { timeout: 60_000 }, async () => {
    for (const args of [['docker', 'hosts/locale.txt'], ['docker', '--json', 'hosts/locale.txt']]) {
      const [base, danish] = await inPairs([run(args), run(args, DANISH)]);
      expectSame(`${args.join(' ')} under da_DK`, base!, danish!);
    }
  });
});
