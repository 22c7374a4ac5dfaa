// Types for bounds.mjs (plain JavaScript so the bench runs without a build step); the
// generators are shared with test/robustness/bounds.test.ts.
export function largeFile(bytes: number): string;
export function singleLine(bytes: number): string;
export function manyChains(count: number): string;
export function deepChain(depth: number): string;
export function nestedQuoting(bytes: number, lines?: number): string;
export function oneChain(count: number): string;
export function sourceBlocklist(count: number): string;
export function diamond(depth: number): string;
export function cartesianLine(n: number): string;
export function greedyOptions(bytes: number): string;
export function greedyOptionLines(bytes: number, lines: number): string;
export function headerComments(bytes: number, lines: number): string;
export const SCENARIOS: readonly { readonly name: string; readonly what: string; make(): string }[];
export const boundsSection: { readonly name: string; readonly title: string; run(context: unknown): Promise<unknown> };
