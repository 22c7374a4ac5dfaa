// The graph as a Mermaid flowchart (GitHub renders it in Markdown and job summaries).
//
// Only a small, regular subset of the flowchart syntax is written: quoted
// labels with entity codes for anything special, identifiers made of
// [A-Za-z0-9_] with a family prefix (so never a keyword such as `end`), and
// linkStyle by edge index for the decisive edges.

import type { Graph, GraphNode, NodeKind, Outcome } from './model.ts';
import { familyTitle } from './model.ts';

/** Text inside a quoted Mermaid label: `"` and `#` as entity codes, no HTML, lines joined by <br>. */
export function mermaidText(lines: readonly string[]): string {
  return lines.map((line) => line
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/\|/g, '#124;')
    .replace(/`/g, '#96;'))
    .join('<br>');
}

const SHAPES: Readonly<Record<NodeKind, readonly [string, string]>> = {
  interface: ['([', '])'],
  chain: ['[', ']'],
  container: ['[[', ']]'],
  host: ['[[', ']]'],
  drop: ['{{', '}}'],
  unknown: ['{{', '}}'],
};

const EDGE_COLOURS: Readonly<Record<Outcome, string>> = { accept: '#1a7f37', drop: '#cf222e', unknown: '#9a6700' };

function nodeLine(node: GraphNode): string {
  const [open, close] = SHAPES[node.kind];
  return `${node.id}${open}"${mermaidText(node.label)}"${close}`;
}

export function toMermaid(graph: Graph): string {
  const out = ['flowchart LR'];
  for (const family of graph.families) {
    out.push(`  subgraph ${family}_graph["${mermaidText([familyTitle(family)])}"]`, '    direction LR');
    for (const node of graph.nodes.filter((n) => n.family === family)) out.push(`    ${nodeLine(node)}`);
    out.push('  end');
  }
  const styles: string[] = [];
  graph.edges.forEach((edge, index) => {
    const arrow = edge.decisive ? '==>' : '-->';
    out.push(edge.label.length > 0 ? `  ${edge.from} ${arrow}|"${mermaidText(edge.label)}"| ${edge.to}` : `  ${edge.from} ${arrow} ${edge.to}`);
    if (edge.decisive) styles.push(`  linkStyle ${index} stroke:${EDGE_COLOURS[edge.decisive]},stroke-width:3px`);
  });
  out.push(...styles);
  out.push(
    '  classDef interface fill:#ddf4ff,stroke:#0969da',
    '  classDef container fill:#dafbe1,stroke:#1a7f37',
    '  classDef drop fill:#ffebe9,stroke:#cf222e',
    '  classDef unknown fill:#fff8c5,stroke:#9a6700',
  );
  for (const kind of ['interface', 'container', 'drop', 'unknown'] as const) {
    const ids = graph.nodes.filter((n) => n.kind === kind || (kind === 'container' && n.kind === 'host')).map((n) => n.id);
    if (ids.length > 0) out.push(`  class ${ids.join(',')} ${kind}`);
  }
  return `${out.join('\n')}\n`;
}
