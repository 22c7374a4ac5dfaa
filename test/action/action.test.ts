// The GitHub Action: action.yml's shape, and its script run locally the way
// the composite step runs it (inputs as environment variables, GitHub's
// GITHUB_STEP_SUMMARY and GITHUB_OUTPUT pointed at temp files).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, scratchDir } from '../scratch.ts';
import { REPO_ROOT } from '../corpus-hosts.ts';
import { parseMermaidFlowchart } from '../graph/mermaid-grammar.ts';
import { mdCode, mdText } from '../../scripts/action/run.mjs';

const SCRIPT = join(REPO_ROOT, 'scripts/action/run.mjs');
const ACTION_YML = readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8');
const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

/** YAML through Python when it has PyYAML (pre-commit brings python3-yaml); undefined without it; a YAML error throws. */
function yamlToJson(text: string): unknown {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import yaml']).status === 0);
  if (!python) {
    console.log('action.yml structure test skipped: no python3 with PyYAML (apt-get install python3-yaml)');
    return undefined;
  }
  const r = spawnSync(python, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`action.yml is not valid YAML:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

interface Step { name?: string; id?: string; uses?: string; run?: string; shell?: string; env?: Record<string, string>; with?: Record<string, string>; if?: string; 'working-directory'?: string }

describe('action.yml', () => {
  const action = yamlToJson(ACTION_YML) as { runs: { using: string; steps: Step[] }; inputs: Record<string, { default?: string }>; outputs: Record<string, unknown> } | undefined;

  it.skipIf(!action)('is a composite action: npm ci in the action path, the script, the SARIF upload, then the verdict', () => {
    expect(action!.runs.using).toBe('composite');
    const steps = action!.runs.steps;
    expect(steps[0]).toMatchObject({ run: expect.stringContaining('npm ci'), 'working-directory': '${{ github.action_path }}', shell: 'bash' });
    expect(steps[1]).toMatchObject({ id: 'lint', run: 'node "$GITHUB_ACTION_PATH/scripts/action/run.mjs"' });
    expect(steps[2]).toMatchObject({ uses: expect.stringMatching(/^github\/codeql-action\/upload-sarif@v\d+$/), with: { sarif_file: '${{ steps.lint.outputs.sarif-file }}' } });
    expect(steps[2]!.if).toContain('always()');
    expect(steps[3]!.run).toContain('exit "${EXIT_CODE:-2}"');
    expect(Object.keys(action!.inputs)).toEqual(expect.arrayContaining(['path', 'failure-threshold', 'config', 'sarif-file', 'upload-sarif', 'summary']));
    expect(Object.keys(action!.outputs)).toEqual(['exit-code', 'sarif-file']);
    // Inputs reach scripts only through env: an input is never spliced into shell text.
    for (const step of steps) expect(step.run ?? '').not.toMatch(/\$\{\{/);
    expect(Object.values(steps[1]!.env!)).toEqual(expect.arrayContaining(['${{ inputs.path }}', '${{ inputs.failure-threshold }}']));
  });

  it('runs the script this repository ships', () => {
    expect(ACTION_YML).toContain('scripts/action/run.mjs');
    expect(readFileSync(SCRIPT, 'utf8').length).toBeGreaterThan(0);
  });
});

describe('the Action script, run locally', () => {
  let cliPath: string;
  beforeAll(async () => {
    cliPath = await bundleCli('dockfw-action-cli-');
  });

  const workspace = (files: Record<string, string>) => scratchDir(files, 'dockfw-action-');

  function runAction(dir: string, inputs: Record<string, string>) {
    const summary = join(dir, '..', `${dir.split('/').at(-1)}-summary.md`);
    const output = join(dir, '..', `${dir.split('/').at(-1)}-output.txt`);
    writeFileSync(summary, '');
    writeFileSync(output, '');
    const r = spawnSync(process.execPath, [SCRIPT], {
      cwd: dir, encoding: 'utf8',
      env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, DOCKFW_LINT_CLI: cliPath, ...inputs },
    });
    const outputs = Object.fromEntries(readFileSync(output, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, summary: readFileSync(summary, 'utf8'), outputs };
  }

  it('findings: SARIF written, exit-code 1 for the next step, a summary with findings, exposures and Mermaid paths', () => {
    const dir = workspace({
      'hosts/shop.v4.txt': read('corpus/mistakes/m01-input-drop-published-port.txt'),
      'hosts/edge.txt': read('corpus/hardened/ufw-docker.txt'),
      'README.md': '# not a snapshot',
    });
    const r = runAction(dir, { DOCKFW_PATHS: 'hosts' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs).toEqual({ 'exit-code': '1', 'sarif-file': 'dockfw-lint.sarif' });
    const sarif = JSON.parse(readFileSync(join(dir, 'dockfw-lint.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.some((res: { ruleId: string }) => res.ruleId === 'DFW101')).toBe(true);
    expect(r.stdout).toContain('DFW101');

    expect(r.summary.startsWith('## dockfw-lint: ✖ findings at or above error\n')).toBe(true);
    expect(r.summary).toMatch(/\| 🔴 error \| DFW101 input-rule-misses-published-port \| `hosts\/shop\.v4\.txt:24:1` \| This INPUT rule/);
    expect(r.summary).toContain('| `hosts/shop.v4.txt` | ipv4 | published port | `tcp 0.0.0.0:8080` | 172.18.0.2:80 (br-5b4c342e39a3) | any other interface: 0.0.0.0/0 |');
    const diagrams = [...r.summary.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => `${m[1]}\n`);
    expect(diagrams).toHaveLength(2);
    for (const diagram of diagrams) expect(parseMermaidFlowchart(diagram).edges.length).toBeGreaterThan(0);
    // Every table row keeps its columns, whatever the messages hold.
    for (const row of r.summary.split('\n').filter((l) => l.startsWith('| 🔴') || l.startsWith('| 🟠'))) {
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(6);
    }
  });

  it('clean hosts: exit-code 0 and a passing summary; inputs for threshold, SARIF path and no summary are honoured', () => {
    const dir = workspace({ 'a.v4.txt': read('corpus/hardened/docker-user-allowlist-ctorigdstport.txt') });
    const clean = runAction(dir, { DOCKFW_PATHS: 'a.v4.txt', DOCKFW_SARIF_FILE: 'out/x.sarif' });
    expect(clean.outputs['exit-code']).toBe('0');
    expect(clean.summary).toMatch(/^## dockfw-lint: ✔ passed\n/);
    expect(clean.summary).toContain('✔ 1 file checked, no problems.');

    const strict = runAction(dir, { DOCKFW_PATHS: 'a.v4.txt', DOCKFW_FAILURE_THRESHOLD: 'info', DOCKFW_SUMMARY: 'false' });
    expect(strict.summary).toBe('');
    expect(['0', '1']).toContain(strict.outputs['exit-code']);
  });

  it('unparseable input: exit-code 2, the file named in the summary', () => {
    const dir = workspace({ 'bad.txt': '*filter\n-A NOPE -j DROP\nCOMMIT\n', 'good.txt': read('corpus/other/plain-server.txt') });
    const r = runAction(dir, { DOCKFW_PATHS: 'bad.txt good.txt' });
    expect(r.outputs['exit-code']).toBe('2');
    expect(r.summary).toContain('## dockfw-lint: ✖ could not check every file');
    expect(r.summary).toContain('⚠ 1 file could not be checked:');
    expect(r.summary).toContain('`bad.txt:2`');
  });

  it('Markdown helpers neutralise table breaks, HTML and fences', () => {
    expect(mdText('a | b <script>x</script> `c` *d* [e](f) #1\nnext')).toBe('a \\| b &lt;script&gt;x&lt;/script&gt; \\`c\\` \\*d\\* \\[e\\](f) \\#1 next');
    expect(mdCode('-m comment --comment "a`b|c"')).toBe('``-m comment --comment "a`b\\|c"``');
  });
});

describe('what the Action installs', () => {
  it('npm ci builds the CLI the script runs (prepare → dist/cli.mjs)', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.scripts.prepare).toContain('scripts/build.mjs');
    expect(read('scripts/build.mjs')).toContain("'dist/cli.mjs'");
    expect(execFileSync(process.execPath, ['--check', SCRIPT]).toString()).toBe('');
  });
});
