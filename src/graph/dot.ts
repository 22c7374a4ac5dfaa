// The graph in Graphviz DOT (`dot -Tsvg`), decisive edges bold and coloured.

import type { Graph, GraphNode, NodeKind, Outcome } from './model.ts';
import { familyTitle } from './model.ts';

/** A DOT double-quoted string: backslashes and quotes escaped, lines joined by \n (centred). */
export function dotString(lines: readonly string[]): string {
  const text = lines.map((line) => line
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"'))
    .join('\\n');
  return `"${text}"`;
}

const NODE_ATTRIBUTES: Readonly<Record<NodeKind, string>> = {
  interface: 'shape=ellipse, style=filled, fillcolor="#ddf4ff", color="#0969da"',
  chain: 'shape=box',
  container: 'shape=box3d, style=filled, fillcolor="#dafbe1", color="#1a7f37"',
  host: 'shape=box3d, style=filled, fillcolor="#dafbe1", color="#1a7f37"',
  drop: 'shape=octagon, style=filled, fillcolor="#ffebe9", color="#cf222e"',
  unknown: 'shape=diamond, style=filled, fillcolor="#fff8c5", color="#9a6700"',
};

const EDGE_COLOURS: Readonly<Record<Outcome, string>> = { accept: '#1a7f37', drop: '#cf222e', unknown: '#9a6700' };

function nodeLine(node: GraphNode): string {
  return `${node.id} [label=${dotString(node.label)}, ${NODE_ATTRIBUTES[node.kind]}];`;
}

export function toDot(graph: Graph): string {
  const out = [
    'digraph dockfw_lint {',
    `  label=${dotString([`dockfw-lint: ${graph.title}`])};`,
    '  labelloc=t;',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const family of graph.families) {
    out.push(`  subgraph cluster_${family} {`, `    label=${dotString([familyTitle(family)])};`);
    for (const node of graph.nodes.filter((n) => n.family === family)) out.push(`    ${nodeLine(node)}`);
    out.push('  }');
  }
  for (const edge of graph.edges) {
    const attributes = [
      ...(edge.label.length > 0 ? [`label=${dotString(edge.label)}`] : []),
      ...(edge.decisive ? [`color="${EDGE_COLOURS[edge.decisive]}"`, `fontcolor="${EDGE_COLOURS[edge.decisive]}"`, 'penwidth=3'] : []),
    ];
    out.push(`  ${edge.from} -> ${edge.to}${attributes.length > 0 ? ` [${attributes.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
