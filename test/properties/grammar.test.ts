// Generated valid rulesets (every table, user chains, jumps and gotos, typed and
// opaque matches, targets, negations, counters, restore commands, quoting):
// parse never throws and finds no error, comments and log prefixes survive
// quoting, and parse(print(ast)) equals ast.
import { describe } from 'vitest';
import { propertyTest } from './harness.ts';

describe('grammar properties', () => {
  propertyTest('parse-valid');
  propertyTest('round-trip');
  propertyTest('quoting');
});
