// The simulator on generated rulesets (with chain loops): every trace ends, a
// walk that enters a chain already on its stack is a detected loop with verdict
// unknown; and exposure() agrees with concrete walks from the sources around
// every boundary it reports (Docker hosts with injected admin rules, and plain
// rulesets of both families).
import { describe } from 'vitest';
import { propertyTest } from './harness.ts';

describe('simulator properties', () => {
  propertyTest('simulator-terminates');
  propertyTest('exposure-docker');
  propertyTest('exposure-generic');
});
