// The bench's AST floor (scripts/bench/ast-floor.mjs) is only a fair lower bound for
// parse() if it builds a node for every rule parse() builds: checked on the bench's own
// generators and on every corpus file made of -A lines alone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { buildAstFloor } from '../../scripts/bench/ast-floor.mjs';
import { dockerHostRuleset, kubeProxyRuleset } from '../../scripts/gen/index.mjs';
import { corpusHosts, REPO_ROOT } from '../corpus-hosts.ts';

function parsedRules(text: string, file: string): number {
  let rules = 0;
  for (const ruleset of parse(text, { file }).rulesets) for (const table of ruleset.tables) for (const chain of table.chains) rules += chain.rules.length;
  return rules;
}

/** Files the floor can count: no command but -A, and no rule that expands to several (`-s a,b`). */
function appendsOnly(text: string): boolean {
  return !/^(?:\[\d+:\d+\]\s*)?-(?!A )/m.test(text) && !/ -[sd] \S+,/.test(text);
}

describe('AST floor of the parse benchmark', () => {
  it('builds a node for every rule of the generated kube-proxy and Docker rulesets', () => {
    for (const text of [kubeProxyRuleset(2_000, { seed: 3 }), dockerHostRuleset()]) {
      const rules = parsedRules(text, 'gen.txt');
      expect(rules).toBeGreaterThan(100);
      expect(buildAstFloor(text, 'gen.txt')).toBe(rules);
    }
  });

  it('builds a node for every rule of each corpus file made of -A lines', () => {
    let compared = 0;
    for (const host of corpusHosts()) {
      for (const file of host.files) {
        const text = readFileSync(`${REPO_ROOT}/${file}`, 'utf8');
        if (!appendsOnly(text)) continue;
        expect(buildAstFloor(text, file), file).toBe(parsedRules(text, file));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});
