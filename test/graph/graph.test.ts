// `graph`: Mermaid and DOT that real tools accept, for every corpus host, and
// the paths they draw are the simulator's: interface → nat → filter → container,
// the deciding rule on a bold edge.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instance, type Viz } from '@viz-js/viz';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildHosts, type HostInput } from '../../src/engine/host.ts';
import { buildGraph, toDot, toMermaid } from '../../src/graph/index.ts';
import { corpusHosts, REPO_ROOT } from '../corpus-hosts.ts';
import { decodeMermaidLabel, MermaidSyntaxError, parseMermaidFlowchart } from './mermaid-grammar.ts';

let viz: Viz;
beforeAll(async () => {
  viz = await instance();
});

function host(inputs: readonly HostInput[], externalInterfaces: string[] = []) {
  const built = buildHosts(inputs, { externalInterfaces, localAddresses: [] });
  expect(built.errors).toEqual([]);
  expect(built.hosts).toHaveLength(1);
  return built.hosts[0]!;
}

function read(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

/**
 * Graphviz's own parser and layout: any error or warning fails, except the
 * wasm build's missing font metrics for non-ASCII characters (→, …), which is
 * about text width, not syntax.
 */
function renderDot(dot: string) {
  const result = viz.render(dot, { format: 'svg' });
  return { ...result, errors: result.errors.filter((e) => !/no value for width of non-ASCII character/.test(e.message)) };
}

const M01 = 'corpus/mistakes/m01-input-drop-published-port.txt';

describe('the Mermaid checker itself', () => {
  const good = 'flowchart LR\n  subgraph g["G"]\n    v4_a(["a"])\n    v4_b[["b #quot;x#quot;<br>y"]]\n  end\n  v4_a ==>|"l #35;1"| v4_b\n  linkStyle 0 stroke:#1a7f37,stroke-width:3px\n  classDef c fill:#fff\n  class v4_a,v4_b c\n';
  it('accepts the constructs graph writes', () => {
    const chart = parseMermaidFlowchart(good);
    expect(chart.edges).toEqual([{ from: 'v4_a', to: 'v4_b', arrow: '==>', label: 'l #35;1' }]);
    expect(decodeMermaidLabel(chart.nodes.get('v4_b')!.label)).toBe('b "x"\ny');
  });
  it.each([
    ['a keyword as id', good.replace(/v4_a/g, 'end')],
    ['an id starting with o', good.replace(/v4_a/g, 'oops')],
    ['a raw quote in a label', good.replace('#quot;x#quot;', '"x"')],
    ['a raw # in a label', good.replace('#35;1', '#1')],
    ['HTML in a label', good.replace('<br>', '<script>')],
    ['an undeclared node', good.replace('v4_a ==>', 'v4_z ==>')],
    ['a linkStyle past the edges', good.replace('linkStyle 0', 'linkStyle 1')],
    ['an unclosed subgraph', good.replace('  end\n', '')],
    ['a missing header', good.replace('flowchart LR', 'flowchart')],
    ['an unknown statement', `${good}  v4_a --- v4_b\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parseMermaidFlowchart(text)).toThrow(MermaidSyntaxError);
  });
});

describe('every corpus host draws as valid Mermaid and DOT', () => {
  for (const corpusHost of corpusHosts()) {
    it(corpusHost.name, () => {
      const built = buildHosts(corpusHost.files.map((file) => ({ file, text: read(file) })), { externalInterfaces: [], localAddresses: [] });
      expect(built.errors).toEqual([]);
      for (const h of built.hosts) {
        const graph = buildGraph(h);
        // Jumps lead somewhere else: a chain never calls itself in a walk.
        expect(graph.edges.filter((e) => e.from === e.to)).toEqual([]);
        const chart = parseMermaidFlowchart(toMermaid(graph));
        expect(chart.edges).toHaveLength(graph.edges.length);
        expect([...chart.linkStyles.keys()].sort((a, b) => a - b)).toEqual(graph.edges.flatMap((e, i) => (e.decisive ? [i] : [])));
        const rendered = renderDot(toDot(graph));
        expect(rendered.errors).toEqual([]);
        expect(rendered.status).toBe('success');
        expect(rendered.output).toContain('<svg');
      }
    });
  }
});

describe('the paths drawn', () => {
  it('m01: each interface → nat PREROUTING → nat DOCKER → (DNAT) filter FORWARD → filter DOCKER ⇒ container', () => {
    const graph = buildGraph(host([{ file: M01, text: read(M01) }]));
    const chart = parseMermaidFlowchart(toMermaid(graph));
    const edge = (from: string, to: string) => chart.edges.filter((e) => e.from === from && e.to === to);
    expect(edge('v4_if_other', 'v4_chain_nat_PREROUTING')).toHaveLength(1);
    expect(edge('v4_chain_nat_PREROUTING', 'v4_chain_nat_DOCKER')[0]!.label).toBe('line 55');
    expect(edge('v4_chain_nat_DOCKER', 'v4_chain_filter_FORWARD').map((e) => decodeMermaidLabel(e.label!))).toContain('line 64: DNAT → 172.18.0.2:80');
    const decisive = edge('v4_chain_filter_DOCKER', 'v4_ct_tcp_172_18_0_2_80')[0]!;
    expect(decisive.arrow).toBe('==>');
    expect(decodeMermaidLabel(decisive.label!)).toMatch(/^line 36: -d 172\.18\.0\.2\/32 .*-j ACCEPT\ntcp 0\.0\.0\.0:8080 from 0\.0\.0\.0\/0 via any other interface$/);
    expect(chart.nodes.get('v4_ct_tcp_172_18_0_2_80')).toMatchObject({ shape: '[[]]', subgraph: 'ipv4_graph' });
  });

  it('Docker 28.1: chains walked without a match (DOCKER-CT, DOCKER-ISOLATION-STAGE-1) are still on the path', () => {
    const file = 'corpus/docker-layouts/docker-28.1-forward-chains.txt';
    const graph = buildGraph(host([{ file, text: read(file) }]));
    const from = (id: string) => graph.edges.filter((e) => e.from === id).map((e) => `${e.to} ${e.label.join(' ')}`);
    expect(from('v4_chain_filter_DOCKER_FORWARD')).toEqual([
      'v4_chain_filter_DOCKER_CT line 50', 'v4_chain_filter_DOCKER_ISOLATION_STAGE_1 line 51', 'v4_chain_filter_DOCKER_BRIDGE line 52',
    ]);
  });

  it('a DOCKER-USER allowlist: the drop and the accept each get their decisive edge, with the sources they decide', () => {
    const text = read(M01).replace(/^-A DOCKER-USER -j RETURN$/m,
      '-A DOCKER-USER -s 198.51.100.0/24 -i eth0 -j RETURN\n-A DOCKER-USER -i eth0 -m comment --comment "deny \\"all\\" #1 <b>|x|</b> \\\\ `y`" -j DROP\n-A DOCKER-USER -j RETURN');
    const graph = buildGraph(host([{ file: 'h.txt', text }]));
    const drop = graph.edges.find((e) => e.decisive === 'drop')!;
    expect(drop.from).toBe('v4_chain_filter_DOCKER_USER');
    expect(drop.to).toBe('v4_dropped');
    expect(drop.label[0]).toMatch(/^line 46: -i eth0 -m comment --comment .*-j DROP$/);
    expect(drop.label).toContain('tcp 0.0.0.0:8080 from 0.0.0.0/0 except 198.51.100.0/24 via eth0');
    expect(graph.edges.filter((e) => e.decisive === 'accept').flatMap((e) => e.label)).toContain('tcp 0.0.0.0:8080 from 198.51.100.0/24 via eth0');

    // Hostile comment text survives both syntaxes.
    const chart = parseMermaidFlowchart(toMermaid(graph));
    const mermaidDrop = chart.edges.find((e) => e.to === 'v4_dropped')!;
    expect(decodeMermaidLabel(mermaidDrop.label!)).toContain('"deny \\"all\\" #1 <b>|x|</b>');
    const rendered = renderDot(toDot(graph));
    expect(rendered.errors).toEqual([]);
    expect(rendered.output).toContain('deny \\&quot;all\\&quot; #1 &lt;b&gt;|x|&lt;/b&gt;');
  });

  it('IPv4 and IPv6 of one host side by side, each in its own subgraph', () => {
    const graph = buildGraph(host([
      { file: 'web.v4.txt', text: read('corpus/hardened/docker-28.2-ipv6-pair.v4.txt') },
      { file: 'web.v6.txt', text: read('corpus/hardened/docker-28.2-ipv6-pair.v6.txt') },
    ]));
    expect(graph.families).toEqual(['ipv4', 'ipv6']);
    const chart = parseMermaidFlowchart(toMermaid(graph));
    const subgraphs = new Set([...chart.nodes.values()].map((n) => n.subgraph));
    expect(subgraphs).toEqual(new Set(['ipv4_graph', 'ipv6_graph']));
    expect(graph.edges.some((e) => e.decisive === 'drop' && e.from.startsWith('v6_'))).toBe(true);
  });

  it('routed IPv6 publications (no NAT) are drawn to the container address', () => {
    const graph = buildGraph(host([
      { file: 'r.v4.txt', text: read('corpus/docker-layouts/docker-27-routed-ipv6.v4.txt') },
      { file: 'r.v6.txt', text: read('corpus/docker-layouts/docker-27-routed-ipv6.v6.txt') },
    ]));
    const container = graph.nodes.find((n) => n.id === 'v6_ct_tcp_2001_db8_77_1_2_80')!;
    expect(container.label).toContain('published tcp [2001:db8:77:1::2]:80 (routed)');
    expect(graph.edges.some((e) => e.to === container.id && e.decisive)).toBe(true);
  });

  it('--ext-if: only the named interfaces are drawn', () => {
    const graph = buildGraph(host([{ file: M01, text: read(M01) }], ['ens3']), { externalInterfaces: ['ens3'] });
    expect(graph.nodes.filter((n) => n.kind === 'interface').map((n) => n.label)).toEqual([['ens3']]);
  });

  it('a host without published ports draws an empty but valid graph', () => {
    const graph = buildGraph(host([{ file: 'plain.txt', text: read('corpus/other/plain-server.txt') }]));
    expect(graph.edges).toEqual([]);
    expect(() => parseMermaidFlowchart(toMermaid(graph))).not.toThrow();
    expect(renderDot(toDot(graph)).errors).toEqual([]);
  });
});
