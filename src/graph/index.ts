// `dockfw-lint graph`: from each external interface through nat and filter to
// each published container port, with the deciding rules highlighted.
export { buildGraph, type Graph, type GraphEdge, type GraphNode, type GraphOptions } from './model.ts';
export { toMermaid, mermaidText } from './mermaid.ts';
export { toDot, dotString } from './dot.ts';

export const GRAPH_FORMATS = ['mermaid', 'dot'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
