// Types for prng.mjs.
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  shuffle<T>(items: T[]): T[];
  hex(length: number): string;
}
export function createRandom(seed: number | string): Random;
