// A strict checker for the Mermaid flowchart subset `graph` writes.
//
// @mermaid-js/parser (the Langium grammars) does not cover flowcharts, and
// mermaid itself needs a DOM and pulls in d3, cytoscape, katex … for a parse.
// So this reads the output with the flowchart grammar's own rules for the
// constructs we use, and rejects everything else: header and direction,
// subgraph/end nesting, node shapes with quoted labels, edges (`-->`, `==>`,
// with a quoted `|label|`), linkStyle/classDef/class statements; identifiers
// that are not keywords (an id `end` closes a subgraph) and do not start with
// `o`/`x` (`--> oB` reads as a circle edge); labels with no raw `"`, with `#`
// only in entity codes and `<` only in `<br>`; every referenced node declared;
// linkStyle indexes within the edges.

export interface MermaidNode {
  readonly id: string;
  readonly shape: string;
  readonly label: string;
  readonly subgraph?: string;
}

export interface MermaidEdge {
  readonly from: string;
  readonly to: string;
  readonly arrow: '-->' | '==>';
  readonly label?: string;
}

export interface MermaidFlowchart {
  readonly direction: string;
  readonly nodes: ReadonlyMap<string, MermaidNode>;
  readonly edges: readonly MermaidEdge[];
  readonly linkStyles: ReadonlyMap<number, string>;
  readonly classes: ReadonlyMap<string, readonly string[]>;
}

export class MermaidSyntaxError extends Error {
  constructor(readonly line: number, message: string, readonly text: string) {
    super(`line ${line}: ${message}: ${JSON.stringify(text)}`);
  }
}

const DIRECTIONS = new Set(['LR', 'RL', 'TB', 'TD', 'BT']);
const KEYWORDS = ['end', 'subgraph', 'graph', 'flowchart', 'style', 'classdef', 'class', 'linkstyle', 'click', 'call', 'href', 'direction', 'default', 'interpolate', 'accTitle', 'accDescr'];
const ID = '[A-Za-z_][A-Za-z0-9_]*';
/** Label text: no quote, no newline; `#` only as `#name;` / `#123;`; `<` only as `<br>`. */
const LABEL = '(?:[^"#<\\n]|#[A-Za-z]+;|#\\d+;|<br>)*';
const SHAPES: readonly (readonly [string, string])[] = [['([', '])'], ['[[', ']]'], ['[(', ')]'], ['((', '))'], ['{{', '}}'], ['[', ']'], ['(', ')'], ['{', '}'], ['>', ']']];
const STYLE = '[a-z-]+:[^,;\\s]+(?:,[a-z-]+:[^,;\\s]+)*';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const NODE_PATTERNS = SHAPES.map(([open, close]) => ({
  shape: `${open}${close}`,
  pattern: new RegExp(`^(${ID})${escapeRegExp(open)}"(${LABEL})"${escapeRegExp(close)}$`),
}));
const EDGE = new RegExp(`^(${ID}) (-->|==>)(?:\\|"(${LABEL})"\\|)? (${ID})$`);
const SUBGRAPH = new RegExp(`^subgraph (${ID})\\["(${LABEL})"\\]$`);
const LINK_STYLE = new RegExp(`^linkStyle (\\d+(?:,\\d+)*) (${STYLE})$`);
const CLASS_DEF = new RegExp(`^classDef (${ID}) (${STYLE})$`);
const CLASS = new RegExp(`^class (${ID}(?:,${ID})*) (${ID})$`);

function checkId(id: string, line: number, text: string): void {
  const lower = id.toLowerCase();
  if (KEYWORDS.some((k) => lower === k.toLowerCase() || lower.startsWith(`${k.toLowerCase()}_`))) throw new MermaidSyntaxError(line, `identifier "${id}" is a keyword`, text);
  if (/^[ox]/i.test(id)) throw new MermaidSyntaxError(line, `identifier "${id}" starts with o/x and would read as an edge end`, text);
}

export function parseMermaidFlowchart(source: string): MermaidFlowchart {
  const lines = source.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = /^flowchart (\w+)$/.exec(lines[0] ?? '');
  if (!header || !DIRECTIONS.has(header[1]!)) throw new MermaidSyntaxError(1, 'expected "flowchart <direction>"', lines[0] ?? '');
  const nodes = new Map<string, MermaidNode>();
  const edges: MermaidEdge[] = [];
  const linkStyles = new Map<number, string>();
  const classDefs = new Set<string>();
  const classes = new Map<string, string[]>();
  const stack: string[] = [];
  const references: { id: string; line: number; text: string }[] = [];
  lines.slice(1).forEach((raw, index) => {
    const line = index + 2;
    if (/\t/.test(raw)) throw new MermaidSyntaxError(line, 'tab character', raw);
    const text = raw.trim();
    if (text === '') return;
    let m: RegExpExecArray | null;
    if ((m = SUBGRAPH.exec(text))) {
      checkId(m[1]!, line, raw);
      if (nodes.has(m[1]!) || stack.includes(m[1]!)) throw new MermaidSyntaxError(line, 'subgraph id reused', raw);
      stack.push(m[1]!);
      return;
    }
    if (text === 'end') {
      if (!stack.pop()) throw new MermaidSyntaxError(line, '"end" without subgraph', raw);
      return;
    }
    if ((m = /^direction (\w+)$/.exec(text))) {
      if (stack.length === 0 || !DIRECTIONS.has(m[1]!)) throw new MermaidSyntaxError(line, 'direction outside a subgraph or unknown', raw);
      return;
    }
    if ((m = EDGE.exec(text))) {
      checkId(m[1]!, line, raw);
      checkId(m[4]!, line, raw);
      references.push({ id: m[1]!, line, text: raw }, { id: m[4]!, line, text: raw });
      edges.push({ from: m[1]!, arrow: m[2] as MermaidEdge['arrow'], to: m[4]!, ...(m[3] !== undefined ? { label: m[3] } : {}) });
      return;
    }
    if ((m = LINK_STYLE.exec(text))) {
      for (const n of m[1]!.split(',').map(Number)) linkStyles.set(n, m[2]!);
      return;
    }
    if ((m = CLASS_DEF.exec(text))) {
      classDefs.add(m[1]!);
      return;
    }
    if ((m = CLASS.exec(text))) {
      const ids = m[1]!.split(',');
      for (const id of ids) references.push({ id, line, text: raw });
      if (!classDefs.has(m[2]!)) throw new MermaidSyntaxError(line, `class "${m[2]}" not defined before use`, raw);
      classes.set(m[2]!, [...(classes.get(m[2]!) ?? []), ...ids]);
      return;
    }
    for (const { shape, pattern } of NODE_PATTERNS) {
      const node = pattern.exec(text);
      if (!node) continue;
      checkId(node[1]!, line, raw);
      if (nodes.has(node[1]!)) throw new MermaidSyntaxError(line, 'node declared twice', raw);
      nodes.set(node[1]!, { id: node[1]!, shape, label: node[2]!, ...(stack.length > 0 ? { subgraph: stack.at(-1)! } : {}) });
      return;
    }
    throw new MermaidSyntaxError(line, 'not a flowchart statement this checker accepts', raw);
  });
  if (stack.length > 0) throw new MermaidSyntaxError(lines.length, `subgraph "${stack.at(-1)}" not closed`, '');
  for (const r of references) if (!nodes.has(r.id)) throw new MermaidSyntaxError(r.line, `node "${r.id}" used but never declared`, r.text);
  for (const n of linkStyles.keys()) if (n >= edges.length) throw new MermaidSyntaxError(lines.length, `linkStyle ${n} but only ${edges.length} edges`, '');
  return { direction: header[1]!, nodes, edges, linkStyles, classes };
}

/** Label text as shown: entity codes decoded, <br> as newline. */
export function decodeMermaidLabel(label: string): string {
  return label.replace(/<br>/g, '\n').replace(/#quot;/g, '"').replace(/#lt;/g, '<').replace(/#gt;/g, '>').replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}
