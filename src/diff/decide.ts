// Which step of a walk decided where the packet ends up. Shared by `diff`
// (the rules whose effect changed) and `graph` (the highlighted edges).

import type { Trace } from '../sim/types.ts';

const TERMINAL = new Set(['accept', 'drop', 'reject', 'policy-accept', 'policy-drop']);

/**
 * The index of the deciding step, or -1 for an empty walk: for a drop, the
 * rule (or policy) that dropped it; for an accept, the filter table's accept
 * (nat and mangle accept everything they do not rewrite, so theirs says nothing).
 */
export function decidingStep(trace: Pick<Trace, 'verdict' | 'steps'>): number {
  const steps = trace.steps;
  const terminal = (i: number) => TERMINAL.has(steps[i]!.action);
  if (trace.verdict === 'accept') {
    for (let i = steps.length - 1; i >= 0; i--) if (terminal(i) && steps[i]!.table === 'filter') return i;
  }
  for (let i = steps.length - 1; i >= 0; i--) if (terminal(i)) return i;
  return steps.length - 1;
}
