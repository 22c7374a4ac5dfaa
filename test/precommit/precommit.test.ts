// The pre-commit hook for real: Debian's `pre-commit` in a scratch git
// repository, offline. The hook is the one `.pre-commit-hooks.yaml` declares
// (same id, name, files pattern, types, one call for all files), run as a
// `repo: local` / `language: system` hook on this checkout's bundled CLI —
// the offline form the README documents. A commit adding a ruleset with a
// bypassed published port is refused with the finding shown; a clean one passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../scratch.ts';
import { REPO_ROOT } from '../corpus-hosts.ts';

function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const preCommit = which('pre-commit');
const git = which('git');
if (!preCommit || !git) console.log(`pre-commit tests skipped: ${!preCommit ? 'pre-commit' : 'git'} is not installed (apt-get install pre-commit git)`);

interface ManifestHook {
  readonly id: string;
  readonly name: string;
  readonly entry: string;
  readonly language: string;
  readonly files: string;
  readonly types: readonly string[];
  readonly pass_filenames: boolean;
  readonly require_serial: boolean;
}

/** The manifest as pre-commit reads it: YAML, through the Python that runs pre-commit. */
function readManifest(): ManifestHook[] {
  const shebang = readFileSync(preCommit!, 'utf8').split('\n')[0]!.replace(/^#!\s*/, '').split(/\s+/);
  const python = shebang[0] === '/usr/bin/env' ? shebang[1]! : shebang[0]!;
  const json = execFileSync(python, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(REPO_ROOT, '.pre-commit-hooks.yaml')], { encoding: 'utf8' });
  return JSON.parse(json) as ManifestHook[];
}

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

describe.skipIf(!preCommit || !git)('pre-commit hook (Debian pre-commit, scratch repository, offline)', () => {
  let hook: ManifestHook;
  let repo: string;
  let cliPath: string;
  const env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'dockfw-precommit-'));
    cliPath = await bundleCli('dockfw-precommit-cli-');
    hook = readManifest().find((h) => h.id === 'dockfw-lint')!;
    repo = join(scratch, 'repo');
    mkdirSync(repo);
    Object.assign(env, {
      PATH: process.env.PATH, HOME: scratch, LANG: 'C.UTF-8',
      PRE_COMMIT_HOME: join(scratch, 'pre-commit-cache'),
      GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'ci', GIT_AUTHOR_EMAIL: 'ci@example.invalid', GIT_COMMITTER_NAME: 'ci', GIT_COMMITTER_EMAIL: 'ci@example.invalid',
      NO_COLOR: '1',
    });
    gitIn('init', '-q', '-b', 'main');
    // `repo: local` + `language: system`: nothing to install, nothing downloaded at commit time.
    // JSON is YAML, so the config is written as JSON.
    const config = {
      repos: [{
        repo: 'local',
        hooks: [{
          id: hook.id, name: hook.name, entry: `node ${cliPath}`, language: 'system',
          files: hook.files, types: hook.types, pass_filenames: hook.pass_filenames, require_serial: hook.require_serial,
        }],
      }],
    };
    write('.pre-commit-config.yaml', JSON.stringify(config, null, 2));
    const installed = spawnSync(preCommit!, ['install'], { cwd: repo, env, encoding: 'utf8' });
    expect(installed.status, installed.stderr + installed.stdout).toBe(0);
  });

  function write(path: string, text: string): void {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }

  function gitIn(...args: string[]) {
    return spawnSync(git!, args, { cwd: repo, env, encoding: 'utf8' });
  }

  function commit(message: string) {
    const r = gitIn('commit', '-m', message);
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  }

  it('the manifest is valid for pre-commit and declares a node hook for all saved rulesets in one call', () => {
    expect(spawnSync(preCommit!, ['validate-manifest', join(REPO_ROOT, '.pre-commit-hooks.yaml')], { encoding: 'utf8' }).status).toBe(0);
    expect(hook).toMatchObject({ id: 'dockfw-lint', entry: 'dockfw-lint', language: 'node', pass_filenames: true, require_serial: true, types: ['text'] });
  });

  it('the files pattern picks saved rulesets by their usual names and nothing else', () => {
    // pre-commit applies it with Python's re.search; this subset of syntax means the same in JavaScript.
    const files = new RegExp(hook.files);
    const matched = [
      'iptables', 'etc/sysconfig/ip6tables', 'iptables-save.txt', 'hosts/ip6tables-save.txt', 'ip6tables.save',
      'etc/iptables/rules.v4', 'etc/iptables/rules.v6', 'hosts/web-01.v4.txt', 'hosts/web-01.v6.txt', 'edge.ipv4', 'edge.ipv6.txt',
      'snapshots/web.iptables', 'snapshots/web.ip6tables.txt', 'dumps/iptables-save-2026-05-01.txt', 'dumps/web-01-ip6tables-save.txt',
    ];
    const ignored = ['README.md', 'requirements.txt', 'notes.txt', 'etc/udev/rules.d/99-usb.rules', 'audit/audit.rules', 'docs/iptables.md', 'iptables/README', 'hosts/web-01.v4.txt.bak', 'v4.txt'];
    expect(matched.filter((f) => !files.test(f))).toEqual([]);
    expect(ignored.filter((f) => files.test(f))).toEqual([]);
  });

  it('a clean commit passes; README.md and requirements.txt are not handed to the hook', () => {
    write('hosts/web-01.v4.txt', read('corpus/hardened/docker-28.2-ipv6-pair.v4.txt'));
    write('hosts/web-01.v6.txt', read('corpus/hardened/docker-28.2-ipv6-pair.v6.txt'));
    write('README.md', '# hosts\n');
    write('requirements.txt', 'pre-commit\n');
    gitIn('add', '.');
    const r = commit('clean hosts');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/dockfw-lint\.+Passed/);
    expect(gitIn('log', '--oneline').stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a commit adding a bypassed published port is refused, with the finding shown, all files checked in one call', () => {
    write('hosts/shop.v4.txt', read('corpus/mistakes/m01-input-drop-published-port.txt'));
    write('hosts/edge.iptables', read('corpus/hardened/ufw-docker.txt'));
    gitIn('add', '.');
    const r = commit('shop host');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/dockfw-lint\.+Failed/);
    expect(r.output).toContain('hook id: dockfw-lint');
    expect(r.output).toContain('hosts/shop.v4.txt');
    expect(r.output).toMatch(/error\s+.*DFW101 input-rule-misses-published-port/);
    // One summary for both staged snapshots: one call, not one per file.
    expect(r.output.match(/problems? \(.*\) in 1 of 2 files/g)).toHaveLength(1);
    expect(gitIn('log', '--oneline').stdout.trim().split('\n')).toHaveLength(1);
  });

  it('after the fix (the port restricted in DOCKER-USER, not INPUT) the commit goes through', () => {
    write('hosts/shop.v4.txt', read('corpus/hardened/docker-user-allowlist-ctorigdstport.txt'));
    gitIn('add', '.');
    const r = commit('shop host, restricted in DOCKER-USER');
    expect(r.code, r.output).toBe(0);
    expect(gitIn('log', '--oneline').stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('the hook repository installs with pre-commit\'s `language: node` steps', () => {
  it('`npm pack` prints only the tarball name (pre-commit 3.0.4 reads it from stdout; .npmrc keeps npm silent)', () => {
    const r = spawnSync('npm', ['pack', '--dry-run'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: undefined } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^dockfw-lint-\d+\.\d+\.\d+\.tgz$/);
  });
});
