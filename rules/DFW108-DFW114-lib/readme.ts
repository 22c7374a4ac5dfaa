// The README's examples are tests: every ```iptables incorrect block gives exactly
// one finding of the rule, every ```iptables correct block none. Only test files
// import this.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findingsOf } from '../../src/engine/rule-tester.ts';
import type { LintRule } from '../../src/engine/types.ts';

export function readmeExamples<M extends string>(rule: LintRule<M>, readmeUrl: URL): void {
  const text = readFileSync(readmeUrl, 'utf8');
  const blocks = [...text.matchAll(/```iptables (incorrect|correct)\n([\s\S]*?)```/g)];
  describe(`${rule.meta.id} README examples`, () => {
    it('has an incorrect and a correct example', () => {
      expect(blocks.map((b) => b[1])).toEqual(expect.arrayContaining(['incorrect', 'correct']));
    });
    blocks.forEach((block, i) => {
      const kind = block[1]!;
      it(`example ${i + 1} (${kind})`, () => {
        const found = findingsOf(rule, { code: block[2]!, file: 'README.md' });
        expect(found.map((f) => `${f.line}:${f.column} ${f.message}`)).toHaveLength(kind === 'incorrect' ? 1 : 0);
      });
    });
  });
}
