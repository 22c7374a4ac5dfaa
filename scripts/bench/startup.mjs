// Section "startup": wall time of `node dist/cli.mjs <20-rule file>` against bare
// `node -e 1`, alternating the two so machine load drifts hit both alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDockerHost } from '../gen/index.mjs';
import { fmt, summarize, target } from './report.mjs';

const STARTUP_LIMIT_S = 0.25;

/** A one-bridge Docker 28.2.2 host with two published ports: exactly 20 rules. */
function smallRuleset(cacheDir) {
  const ruleset = buildDockerHost({ layout: '28.2.2', bridges: 1, publishedPorts: 2, adminInput: false, loopbackShare: 0, hostIpShare: 0 });
  const path = join(cacheDir, 'docker-20.txt');
  const text = ruleset.render();
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
  return { path, rules: ruleset.ruleCount };
}

function wallMs(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  return { ms: performance.now() - started, status: result.status, stderr: result.stderr ?? '' };
}

export const startupSection = {
  name: 'startup',
  title: 'CLI start-up: dist/cli.mjs on a 20-rule file vs node -e 1',
  async run({ cli, cacheDir, startupRuns }) {
    if (!existsSync(cli)) {
      return {
        columns: [], rows: [], notes: [`skipped: ${cli} does not exist yet (npm run build makes it)`],
        targets: [target('CLI start-up (median wall time)', null, STARTUP_LIMIT_S, { unit: 's', reason: 'dist/cli.mjs not built' })],
      };
    }
    const small = smallRuleset(cacheDir);
    const node = [];
    const lint = [];
    const statuses = new Map();
    for (let i = 0; i < startupRuns; i++) {
      node.push(wallMs(['-e', '1']).ms);
      const run = wallMs([cli, small.path]);
      lint.push(run.ms);
      statuses.set(run.status, run.stderr.trim().split('\n')[0]);
    }
    const nodeTime = summarize(node);
    const cliTime = summarize(lint);
    const notes = [`${startupRuns} alternating runs each; ${small.rules}-rule file ${small.path}`];
    // 0 = clean, 1 = findings; anything else means the CLI did not really run on the file.
    for (const [status, firstLine] of statuses) {
      if (status !== 0 && status !== 1) notes.push(`dist/cli.mjs exited with ${status}: ${firstLine}`);
    }
    const healthy = [...statuses.keys()].every((status) => status === 0 || status === 1);
    return {
      columns: [
        { key: 'command', label: 'command' },
        { key: 'medianMs', label: 'median', format: fmt.ms },
        { key: 'minMs', label: 'min', format: fmt.ms },
        { key: 'maxMs', label: 'max', format: fmt.ms },
        { key: 'overMs', label: 'over node -e 1', format: fmt.ms },
      ],
      rows: [
        { command: 'node -e 1', medianMs: nodeTime.median, minMs: nodeTime.min, maxMs: nodeTime.max, overMs: null },
        { command: `node dist/cli.mjs docker-20.txt`, medianMs: cliTime.median, minMs: cliTime.min, maxMs: cliTime.max, overMs: cliTime.median - nodeTime.median },
      ],
      notes,
      summary: { exitCodes: [...statuses.keys()] },
      targets: [
        target('CLI start-up (median wall time)', healthy ? cliTime.median / 1000 : null, STARTUP_LIMIT_S, {
          unit: 's', reason: `dist/cli.mjs exited with ${[...statuses.keys()].join(', ')}`,
        }),
      ],
    };
  },
};
