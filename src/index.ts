// The library entry: what scripts, benchmarks and plugins import.
export * from '../grammar/index.ts';
