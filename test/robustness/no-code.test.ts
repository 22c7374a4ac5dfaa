// No code from input: nothing in a ruleset (comments, chain names, option values,
// file names) or in a config value is evaluated or used as a property path;
// plugins load only from the config the user owns; and text from a ruleset
// reaches every output format intact but unable to forge anything.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { lintText } from '../../src/engine/engine.ts';
import { builtinRules } from '../../src/engine/registry.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import { bundleCli, inPairs, runCli } from './cli-bundle.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dockfw-no-code-'));
const SENTINEL = join(dir, 'pwned');
const q = JSON.stringify(SENTINEL);

/** Payloads in the syntax of every evaluator a careless implementation might hand them to. */
const PAYLOADS = [
  `\${require('fs').writeFileSync(${q},'js')}`,
  `');require('fs').writeFileSync(${q},'quote');//`,
  `{{constructor.constructor('return process')().exit(7)}}`,
  `<%= process.exit(7) %>`,
  `$(touch ${SENTINEL}) \`touch ${SENTINEL}\``,
  `\${process.exit(7)}`,
  `__proto__`, `constructor`, `{rule}`, `{{ruleName}}`, `%s%d%j`,
];

function hostileRuleset(): string {
  const lines = [
    '*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':x${a}y - [0:0]', ':{{b}} - [0:0]',
    ...PAYLOADS.map((p) => `-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "${p.replace(/["\\]/g, (c) => `\\${c}`)}" -j LOG --log-prefix "${p.slice(0, 20).replace(/["\\]/g, (c) => `\\${c}`)}"`),
    '-A INPUT -m set --match-set __proto__ src -j x${a}y',
    '-A INPUT -i __proto__ -m frob --opt constructor toString -j {{b}}',
    '-A x${a}y -j DROP', '-A {{b}} -j DROP',
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}

function prototypeState(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort(), Object.getOwnPropertyNames(String.prototype).sort()]);
}

async function cliInProcess(cwd: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    cwd, env: {},
    stdout: { write: (t) => { stdout += t; }, isTTY: false },
    stderr: { write: (t) => { stderr += t; }, isTTY: false },
    readStdin: () => undefined,
    today: '2030-01-01',
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

let cli: string;
beforeAll(async () => {
  cli = await bundleCli();
}, 60_000);

describe('nothing in a ruleset is evaluated', () => {
  it('template, shell and JavaScript payloads in comments, log prefixes, chain names and option values: lint runs as usual', { timeout: 60_000 }, async () => {
    const text = hostileRuleset();
    expect(parse(text, { file: 'hostile.txt' }).errors).toEqual([]);
    const before = prototypeState();
    const result = lintText(text, { rules: builtinRules, file: 'hostile.txt' });
    expect(result.errors).toEqual([]);
    expect(result.findings.filter((f) => f.ruleId === 'DFW900')).toEqual([]);
    writeFileSync(join(dir, 'hostile.txt'), text);
    for (const format of ['text', 'json', 'sarif', 'github', 'junit']) {
      const r = await cliInProcess(dir, ['--format', format, 'hostile.txt']);
      expect([0, 1], `${format}: ${r.stderr}`).toContain(r.code);
    }
    const children = await inPairs(['text', 'json'].map((format) => () => runCli(cli, ['--format', format, 'hostile.txt'], { cwd: dir })));
    for (const r of children) expect([0, 1], r.stderr).toContain(r.code);
    expect(prototypeState()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(existsSync(SENTINEL)).toBe(false);
  });

  it('a message template placeholder inside a ruleset value is printed as written, not filled in', () => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:{rule} - [0:0]\n:{{ruleName}} - [0:0]\nCOMMIT\n';
    const messages = lintText(text, { rules: builtinRules }).findings.map((f) => f.message).join('\n');
    expect(messages).toContain('{rule}');
    expect(messages).toContain('{{ruleName}}');
  });
});

describe('names from a ruleset are data, never property paths', () => {
  const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
  const withChain = (name: string) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:${name} - [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ${name}\n-A ${name} -j DROP\nCOMMIT\n`;

  it('a chain may be named like an Object.prototype member: declared, holding its rules, nothing polluted, JSON output intact', { timeout: 60_000 }, async () => {
    const before = prototypeState();
    for (const name of NAMES) {
      const parsed = parse(withChain(name), { file: 'x.txt' });
      expect(parsed.errors, name).toEqual([]);
      const chain = parsed.rulesets[0]!.tables[0]!.chains.find((c) => c.name === name);
      expect(chain?.rules.map((r) => r.text), name).toEqual(['-j DROP']);
      writeFileSync(join(dir, `${name}.v4.txt`), withChain(name));
    }
    const json = await cliInProcess(dir, ['parse', '--json', '__proto__.v4.txt']);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('"__proto__"');
    const document = JSON.parse(json.stdout) as unknown;
    expect(JSON.stringify(document)).toContain('"name":"__proto__"');
    expect(prototypeState()).toBe(before);
  });

  // Fixed with the option lookup rewrite (own properties only, 59d2ec5); kept as regressions.
  for (const name of NAMES) {
    it(`-j ${name} jumps to the chain ${name} (it was once taken for a target: \`name in TARGET_OPTIONS\`)`, () => {
      const rule = parse(withChain(name), { file: 'x.txt' }).rulesets[0]!.tables[0]!.chains[0]!.rules[0]!;
      expect(rule.target?.kind).toBe('chain');
    });
  }

  it('the walk follows -j constructor into the chain that drops', () => {
    const ruleset = parse(withChain('constructor'), { file: 'x.txt' }).rulesets[0]!;
    const trace = createSimulator(ruleset, recogniseDocker(ruleset)).trace({ family: 'ipv4', proto: 'tcp', src: '198.51.100.7', dst: '203.0.113.10', sport: 40000, dport: 22, inInterface: 'eth0', state: 'NEW' });
    expect(trace.verdict).toBe('drop');
  });

  it('a jump to an undeclared chain named toString is an error, as for any other name', () => {
    expect(parse('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j toString\nCOMMIT\n', { file: 'x.txt' }).errors).not.toEqual([]);
  });

  it('-m __proto__ and -m constructor are unknown modules like -m frob', () => {
    expect(parse('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m frob --opt x -j ACCEPT\nCOMMIT\n', { file: 'x.txt' }).errors).toEqual([]);
    for (const module of ['__proto__', 'constructor']) {
      expect(parse(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m ${module} --opt x -j ACCEPT\nCOMMIT\n`, { file: 'x.txt' }).errors).toEqual([]);
    }
  });

  it('a file named toString, constructor or __proto__ is linted like any other (src/cli/main.ts looks argv[0] up in a plain object of subcommands: TypeError and a stack trace)', { timeout: 60_000 }, async () => {
    const files = mkdtempSync(join(tmpdir(), 'dockfw-argv-'));
    const results = await inPairs(['toString', 'constructor', '__proto__'].map((name) => () => {
      writeFileSync(join(files, name), readFileSync(join(ROOT, 'corpus/mistakes/m01-input-drop-published-port.txt')));
      return runCli(cli, [name], { cwd: files });
    }));
    for (const r of results) {
      expect(r.stderr).not.toMatch(/TypeError|\n\s+at /);
      expect(r.code).toBe(1);
    }
  });
});

describe('config values are data', () => {
  it('__proto__ and constructor as config keys and values neither pollute nor crash', { timeout: 60_000 }, async () => {
    const before = prototypeState();
    // As JSON text: literal `__proto__` keys, as a user's file would hold them.
    const configs = [
      '{"__proto__": {"polluted": true}}',
      '{"rules": {"constructor": "off"}}',
      '{"rules": {"DFW106": ["warning", {"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}]}}',
      '{"externalInterfaces": ["__proto__", "constructor"], "localAddresses": ["203.0.113.10"], "intendedPublicPorts": ["80"]}',
      '{"suppressions": [{"rule": "__proto__", "reason": "constructor", "file": "__proto__/*"}]}',
    ];
    for (const [i, config] of configs.entries()) {
      const cwd = join(dir, `config-${i}`);
      mkdirSync(cwd, { recursive: true });
      writeFileSync(join(cwd, '.dockfw-lint.json'), config);
      writeFileSync(join(cwd, 'host.txt'), readFileSync(join(ROOT, 'corpus/mistakes/m01-input-drop-published-port.txt')));
      const r = await cliInProcess(cwd, ['--format', 'json', 'host.txt']);
      expect([0, 1, 2], r.stderr).toContain(r.code);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(prototypeState()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('plugins load only from the config the user owns', () => {
  it('a config among the inputs, a pragma naming a plugin and script files in a linted folder load nothing', { timeout: 60_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dockfw-plugins-'));
    const hosts = join(cwd, 'hosts');
    mkdirSync(hosts);
    const evil = `import { writeFileSync } from 'node:fs'; writeFileSync(${q}, 'plugin'); export const rules = [];\n`;
    writeFileSync(join(hosts, 'evil.mjs'), evil);
    writeFileSync(join(hosts, 'evil.js'), evil);
    writeFileSync(join(hosts, '.dockfw-lint.json'), JSON.stringify({ plugins: ['./evil.mjs'] }));
    writeFileSync(join(hosts, 'host.txt'), `# dockfw-lint plugins=./evil.mjs\n# dockfw-lint ignore=./evil.mjs -- import it\n${readFileSync(join(ROOT, 'corpus/mistakes/m01-input-drop-published-port.txt'), 'utf8')}`);
    const r = await runCli(cli, ['--format', 'json', 'hosts'], { cwd });
    expect([0, 1], r.stderr).toContain(r.code);
    const report = JSON.parse(r.stdout) as { files: { path: string }[] };
    expect(report.files.map((f) => f.path)).toEqual(['hosts/host.txt']);
    expect(existsSync(SENTINEL)).toBe(false);
  });
});

describe('ruleset text in every output format: intact, and unable to forge anything', () => {
  // A comment on a rule every walk passes (DOCKER-USER's RETURN), so it is in each finding's path.
  const COMMENT = 'HOSTILE "q" \\b \u009b31m \u202e %0A%25 ::error file=x::forged \'${process.exit(7)}\' </testcase> ]]> {rule}';
  const quoted = `"${COMMENT.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'dockfw-escape-'));
    const text = readFileSync(join(ROOT, 'corpus/mistakes/m01-input-drop-published-port.txt'), 'utf8').replace(/^-A DOCKER-USER -j RETURN$/m, `-A DOCKER-USER -m comment --comment ${quoted} -j RETURN`);
    expect(text).toContain('HOSTILE');
    writeFileSync(join(cwd, 'host.txt'), text);
  });

  it('json and sarif parse and carry the comment unchanged; text escapes C1 controls and bidi overrides; github cannot start another annotation; junit stays well-formed', { timeout: 60_000 }, async () => {
    const [json, sarif, text, github, junit] = await inPairs(['json', 'sarif', 'text', 'github', 'junit'].map((format) => () => runCli(cli, ['--format', format, 'host.txt'], { cwd })));
    for (const r of [json, sarif, text, github, junit]) {
      expect(r!.code, r!.stderr).toBe(1);
      expect(existsSync(SENTINEL)).toBe(false);
    }
    const rules = (JSON.parse(json!.stdout) as { findings: { path?: { rule: string }[] }[] }).findings.flatMap((f) => f.path ?? []).map((s) => s.rule);
    expect(rules).toContain(`-A DOCKER-USER -m comment --comment ${quoted} -j RETURN`);
    const strings: string[] = [];
    const collect = (v: unknown): void => { if (typeof v === 'string') strings.push(v); else if (v && typeof v === 'object') Object.values(v).forEach(collect); };
    collect(JSON.parse(sarif!.stdout));
    expect(strings.some((s) => s.includes(quoted))).toBe(true);
    expect(text!.stdout).toContain('HOSTILE');
    expect(text!.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    for (const line of github!.stdout.trimEnd().split('\n')) expect(line).toMatch(/^::(error|warning|notice) /);
    expect(github!.stdout).not.toMatch(/\n::error file=x/);
    const xml = junit!.stdout;
    expect(xml).not.toContain('</testcase> ]]>');
    expect(xml.match(/<testcase\b/g)?.length).toBe((xml.match(/<\/testcase>/g)?.length ?? 0) + (xml.match(/<testcase\b[^>]*\/>/g)?.length ?? 0));
  });
});
