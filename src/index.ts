// The library entry: what scripts, benchmarks and plugins import.
export * from '../grammar/index.ts';
export { recogniseDocker, describeDocker, dockerModelJson } from './model/docker.ts';
export type * from './model/docker-types.ts';
export { createSimulator } from './sim/index.ts';
export type * from './sim/types.ts';
export { defineRule, docsUrl } from './engine/types.ts';
export type * from './engine/types.ts';
export { buildHosts } from './engine/host.ts';
export { lintHosts, lintText } from './engine/engine.ts';
