// Runs a catalogued property in vitest: fixed seed, the property's bounded run count.
// `npm run fuzz` runs the same catalogue with random seeds and many more runs.
import fc from 'fast-check';
import { it } from 'vitest';
import { propertyNamed, TEST_OPTIONS } from './properties.ts';

/** One seed for every property in `npm test`: a failure reproduces as is. */
export const TEST_SEED = 20_260_611;

export function propertyTest(name: string, timeout = 60_000): void {
  const def = propertyNamed(name);
  it(`${name} (${def.testRuns} runs, seed ${TEST_SEED})`, { timeout }, async () => {
    await fc.assert(def.build(TEST_OPTIONS), { seed: TEST_SEED, numRuns: def.testRuns });
  });
}
