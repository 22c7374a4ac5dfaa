// The whole lint on generated rulesets and on mutated real files (byte flips,
// truncation, duplicated/deleted lines, NUL, CRLF, invalid UTF-8, hostile
// fragments, overlong lines): never an exception, never a crashed rule
// (DFW900), every error and finding on a line that exists; and the CLI itself
// exits 0/1/2 (2 for any parse error) with valid JSON and no stack trace.
import { describe } from 'vitest';
import { propertyTest } from './harness.ts';

describe('lint properties', () => {
  propertyTest('lint-generated');
  propertyTest('mutated-corpus');
  propertyTest('mutated-cli');
});
