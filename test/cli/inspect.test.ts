// Uses a committed corpus file: Docker 29 with two ports published on 127.0.0.1 and one on all addresses.
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD, CLEAN, cli, workspace, type Workspace } from './harness.ts';


let ws: Workspace;
let corpus: string;
beforeAll(async () => {
  ws = workspace(undefined);
  const { readFileSync } = await import('node:fs');
  corpus = readFileSync(new URL('../../corpus/docker-layouts/docker-29-published-loopback.txt', import.meta.url), 'utf8');
  ws.write('host.txt', corpus);
  ws.write('clean.txt', CLEAN);
  ws.write('bad.txt', BAD);
});

describe('parse', () => {
  it('prints a summary, or the AST with --json', async () => {
    const text = await cli(ws, ['parse', 'clean.txt']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('clean.txt: ipv4 (from header), lines 1-7\n  filter: 3 chains (0 user), 1 rules; policies INPUT ACCEPT, FORWARD DROP, OUTPUT ACCEPT\n');
    const json = await cli(ws, ['parse', '--json', 'clean.txt']);
    const ast = JSON.parse(json.stdout);
    expect(ast.rulesets[0].tables[0].chains[0].rules[0].text).toBe('-p tcp -m tcp --dport 22 -j ACCEPT');
    expect(ast.errors).toEqual([]);
  });
  it('reads stdin, and a bad file is exit 2 with every error in compiler form', async () => {
    expect((await cli(ws, ['parse'], { stdin: CLEAN })).stdout).toMatch(/^<stdin>: ipv4/);
    const bad = await cli(ws, ['parse', 'bad.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n').filter((l) => /^bad\.txt:\d+:\d+: error: /.test(l))).toHaveLength(2);
    const badJson = await cli(ws, ['parse', '--json', 'bad.txt']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout).errors).toHaveLength(2);
  });
});

describe('docker', () => {
  it('describes the recognised model, or prints it as JSON', async () => {
    const text = await cli(ws, ['docker', 'host.txt']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^host\.txt\nDocker layout \(iptables\): Docker 29/);
    const json = JSON.parse((await cli(ws, ['docker', '--json', 'host.txt'])).stdout);
    expect(json.rulesets).toHaveLength(1);
    expect(json.rulesets[0]).toMatchObject({ file: 'host.txt', family: 'ipv4', layout: '29' });
    expect(json.rulesets[0].published).toHaveLength(3);
  });
});

describe('trace', () => {
  const packet = ['--in', 'eth0', '--src', '198.51.100.5', '--dst', '203.0.113.10', '--proto', 'tcp', '--dport', '443'];
  it('has the JSON contract of issue 3', async () => {
    const r = await cli(ws, ['trace', 'host.txt', ...packet, '--json']);
    expect(r.code).toBe(0);
    const trace = JSON.parse(r.stdout);
    expect(['accept', 'drop', 'reject', 'unknown']).toContain(trace.verdict);
    expect(['container', 'host', 'forward', 'none']).toContain(trace.reaches.kind);
    expect(trace.steps.length).toBeGreaterThan(0);
    for (const step of trace.steps) {
      expect(Object.keys(step)).toEqual(expect.arrayContaining(['hook', 'table', 'chain', 'line', 'rule', 'matched', 'action']));
    }
    expect(Array.isArray(trace.uncertain)).toBe(true);
    expect(trace).toMatchObject({ verdict: 'accept', reaches: { kind: 'container', address: '172.18.0.4', port: 443 } });
  });
  it('prints the walk for people', async () => {
    const r = await cli(ws, ['trace', 'host.txt', ...packet]);
    expect(r.stdout).toMatch(/^host\.txt\npacket: tcp 198\.51\.100\.5:40000 → 203\.0\.113\.10:443 in eth0 \(NEW\)\n/);
    expect(r.stdout).toMatch(/PREROUTING +nat\/DOCKER +line 59: -A DOCKER .* ⇒ dnat/);
    expect(r.stdout).toMatch(/\nverdict: accept — delivered to container 172\.18\.0\.4:443 on br-/);
  });
  it('takes stdin and --from-host', async () => {
    const r = await cli(ws, ['trace', '--from-host', '--src', '127.0.0.1', '--dst', '127.0.0.1', '--dport', '5432', '--json'], { stdin: corpus });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).packet).toMatchObject({ fromHost: true, dst: '127.0.0.1', dport: 5432 });
  });
  it('picks the source the host would for what it sends: loopback to loopback, else its own given address', async () => {
    const source = async (args: string[]) => JSON.parse((await cli(ws, ['trace', 'host.txt', '--from-host', '--json', ...args])).stdout).packet.src;
    expect(await source(['--dst', '127.0.0.1', '--dport', '5432'])).toBe('127.0.0.1');
    expect(await source(['--dst', '192.0.2.80', '--dport', '80', '--local-addr', '203.0.113.10'])).toBe('203.0.113.10');
    expect(await source(['--dst', '192.0.2.80', '--dport', '80'])).toBe('198.51.100.1');
    // A packet from outside keeps the documentation address.
    expect(JSON.parse((await cli(ws, ['trace', 'host.txt', '--dst', '127.0.0.1', '--json'])).stdout).packet.src).toBe('198.51.100.1');
  });
  it.each([
    [['--src', '1.2.3.4'], 'trace needs --dst ADDRESS'],
    [['--dst', 'example.com'], '--dst must be an IP address'],
    [['--dst', '10.0.0.1', '--dport', '70000'], '--dport must be a port number'],
    [['--dst', '10.0.0.1', '--proto', 'icmp', '--dport', '80'], '--dport/--sport need --proto tcp, udp or sctp'],
    [['--dst', '10.0.0.1', '--state', 'OPEN'], '--state must be one of NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED'],
    [['--dst', '10.0.0.1', '--src', '2001:db8::1'], '--src, --dst and --family disagree'],
    [['--dst', '2001:db8::1'], 'no ip6tables-save in the input'],
    [['--dst', '10.0.0.1', '--from-host', '--in', 'eth0'], '--from-host and --in exclude each other'],
  ])('%j is a usage error', async (flags, message) => {
    const r = await cli(ws, ['trace', 'host.txt', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`dockfw-lint: error: ${message}`);
  });
  it('takes one host only', async () => {
    const r = await cli(ws, ['trace', 'host.txt', 'clean.txt', '--dst', '10.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/trace takes one host/);
  });
});

describe('exposure', () => {
  it('has the JSON contract of issue 3', async () => {
    const r = await cli(ws, ['exposure', 'host.txt', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.rulesets).toHaveLength(1);
    const set = doc.rulesets[0];
    expect(set.family).toBe('ipv4');
    for (const key of ['published', 'direct', 'host']) expect(Array.isArray(set[key])).toBe(true);
    for (const entry of set.published) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['proto', 'hostAddress', 'hostPort', 'container', 'bridge', 'reachableFrom']));
      expect(Object.keys(entry.container)).toEqual(['address', 'port']);
      for (const from of entry.reachableFrom) expect(Object.keys(from)).toEqual(['interface', 'sources']);
    }
    expect(set.published.find((p: { hostPort: number }) => p.hostPort === 443).reachableFrom[0].sources).toEqual(['0.0.0.0/0']);
  });
  it('prints sections for people; bad input is exit 2', async () => {
    const r = await cli(ws, ['exposure', 'host.txt']);
    expect(r.stdout).toMatch(/^host\.txt \(ipv4\)\nPublished container ports:\n {2}tcp 127\.0\.0\.1:5432 → 172\.18\.0\.2:5432/);
    expect((await cli(ws, ['exposure', 'bad.txt'])).code).toBe(2);
  });
  it('takes --ext-if and --local-addr written after the subcommand, or before it', async () => {
    ws.write('open.txt', ['*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT', 'COMMIT', ''].join('\n'));
    expect((await cli(ws, ['exposure', 'open.txt', '--ext-if', 'eth7', '--local-addr', '203.0.113.10'])).stdout)
      .toContain('tcp 203.0.113.10:80: reachable on eth7 from 0.0.0.0/0');
    expect((await cli(ws, ['--ext-if', 'eth8', 'exposure', 'open.txt'])).stdout).toContain('reachable on eth8 from 0.0.0.0/0');
    // A destination that is not one of the given local addresses is routed on, not delivered.
    const trace = await cli(ws, ['trace', 'open.txt', '--dst', '203.0.113.10', '--proto', 'tcp', '--dport', '80', '--local-addr', '198.51.100.1', '--json']);
    expect(JSON.parse(trace.stdout).reaches.kind).toBe('forward');
  });
  it('says which entry stands for every port no rule names', async () => {
    ws.write('accept-all.txt', ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 22 -s 10.0.0.0/8 -j ACCEPT', 'COMMIT', ''].join('\n'));
    const text = (await cli(ws, ['exposure', 'accept-all.txt'])).stdout;
    expect(text).toContain('tcp 0.0.0.0:65001 (stands for every port no rule names): reachable on * from 0.0.0.0/0');
    expect(text).toMatch(/tcp 0\.0\.0\.0:22: reachable/);
    const host = JSON.parse((await cli(ws, ['exposure', 'accept-all.txt', '--json'])).stdout).rulesets[0].host;
    expect(host.find((e: { hostPort: number }) => e.hostPort === 65001).otherPorts).toBe(true);
    expect(host.find((e: { hostPort: number }) => e.hostPort === 22).otherPorts).toBeUndefined();
  });
  it('trace: a connection delivered to the host on a published port is docker-proxy\'s to carry on', async () => {
    const stacks = new URL('../../corpus/docker-layouts/docker-23-compose-stacks.txt', import.meta.url).pathname;
    const { readFileSync } = await import('node:fs');
    ws.write('stacks.txt', readFileSync(stacks, 'utf8'));
    // Docker 23 with the proxy on: nat OUTPUT leaves 127.0.0.0/8 alone, so docker-proxy serves localhost.
    const text = (await cli(ws, ['trace', 'stacks.txt', '--from-host', '--dst', '127.0.0.1', '--proto', 'tcp', '--dport', '3001'])).stdout;
    expect(text).toContain('verdict: accept — delivered to the host (127.0.0.1:3001), where docker-proxy carries it to container 172.18.0.3:3000 on br-3cff18d21f76');
    const doc = JSON.parse((await cli(ws, ['trace', 'stacks.txt', '--from-host', '--dst', '127.0.0.1', '--proto', 'tcp', '--dport', '3001', '--json'])).stdout);
    expect(doc.reaches).toEqual({ kind: 'host', address: '127.0.0.1', port: 3001, interface: 'lo', proxiedTo: { address: '172.18.0.3', port: 3000, bridge: 'br-3cff18d21f76' } });
    // A port nothing publishes: the host itself.
    const other = JSON.parse((await cli(ws, ['trace', 'stacks.txt', '--from-host', '--dst', '127.0.0.1', '--proto', 'tcp', '--dport', '8080', '--json'])).stdout);
    expect(other.reaches.proxiedTo).toBeUndefined();
  });

  it('trace over IPv6 to a port docker-proxy serves for an IPv4-only container names it', async () => {
    const base = new URL('../../corpus/hardened/docker-26-ipv6-proxy-input', import.meta.url).pathname;
    const { readFileSync } = await import('node:fs');
    ws.write('p6.v4.txt', readFileSync(`${base}.v4.txt`, 'utf8'));
    ws.write('p6.v6.txt', readFileSync(`${base}.v6.txt`, 'utf8'));
    const doc = JSON.parse((await cli(ws, ['trace', 'p6.v4.txt', 'p6.v6.txt', '--in', 'eth0', '--src', '2001:db8:99::7', '--dst', '2001:db8:1::10', '--proto', 'tcp', '--dport', '443', '--local-addr', '2001:db8:1::10', '--json'])).stdout);
    expect(doc.reaches).toMatchObject({ kind: 'host', port: 443, proxiedTo: { address: '172.20.0.2', port: 443 } });
    // IPv6 endpoints are bracketed in the text.
    const text = (await cli(ws, ['trace', 'p6.v4.txt', 'p6.v6.txt', '--in', 'eth0', '--src', '2001:db8:99::7', '--dst', '2001:db8:1::10', '--proto', 'tcp', '--dport', '443', '--local-addr', '2001:db8:1::10'])).stdout;
    expect(text).toContain('delivered to the host ([2001:db8:1::10]:443), where docker-proxy carries it to container 172.20.0.2:443');
  });

  it('names the IPv6 host ports docker-proxy serves for IPv4 publications, even when no ip6tables rule names them', async () => {
    // corpus/hardened/docker-26-ipv6-proxy-input: IPv4-only containers, ip6tables INPUT lets 443 in.
    const base = new URL('../../corpus/hardened/docker-26-ipv6-proxy-input', import.meta.url).pathname;
    const { readFileSync } = await import('node:fs');
    ws.write('proxy.v4.txt', readFileSync(`${base}.v4.txt`, 'utf8'));
    ws.write('proxy.v6.txt', readFileSync(`${base}.v6.txt`, 'utf8'));
    const text = (await cli(ws, ['exposure', 'proxy.v4.txt', 'proxy.v6.txt'])).stdout;
    expect(text).toContain('tcp [::]:443 (docker-proxy → 172.20.0.2:443 on br-e8b3d0c71f52): reachable on * from ::/0');
    // An ip6tables dump that names no port at all, with ACCEPT policies: every proxied port gets its line.
    ws.write('bare.v4.txt', readFileSync(`${base}.v4.txt`, 'utf8'));
    ws.write('bare.v6.txt', '# Generated by ip6tables-save v1.8.10 (nf_tables)\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    const doc = JSON.parse((await cli(ws, ['exposure', 'bare.v4.txt', 'bare.v6.txt', '--json'])).stdout);
    const v6 = doc.rulesets.find((r: { family: string }) => r.family === 'ipv6');
    expect(v6.host.filter((e: { proxiedTo?: unknown }) => e.proxiedTo).map((e: { hostPort: number; proxiedTo: unknown }) => [e.hostPort, e.proxiedTo])).toEqual([
      [443, { address: '172.20.0.2', port: 443, bridge: 'br-e8b3d0c71f52' }],
      [9980, { address: '172.20.0.4', port: 9980, bridge: 'br-e8b3d0c71f52' }],
    ]);
    // A lone IPv4 dump, or its own view: no proxy annotation.
    const v4Only = JSON.parse((await cli(ws, ['exposure', 'proxy.v4.txt', '--json'])).stdout);
    expect(JSON.stringify(v4Only)).not.toContain('proxiedTo');
  });
  it('shows sources that depend on an undecidable match as maybe reachable, with the rule, in text and JSON', async () => {
    ws.write('ipset.txt', [
      '*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
      '-A INPUT -p tcp -m tcp --dport 80 -m set --match-set allowed src -j ACCEPT', 'COMMIT', '',
    ].join('\n'));
    const text = await cli(ws, ['exposure', 'ipset.txt', '--ext-if', 'eth0']);
    expect(text.stdout).toContain('tcp 0.0.0.0:80: maybe reachable on eth0 from 0.0.0.0/0, only if let in by line 5 (-m set --match-set allowed');
    const doc = JSON.parse((await cli(ws, ['exposure', 'ipset.txt', '--ext-if', 'eth0', '--json'])).stdout);
    expect(doc.rulesets[0].host).toEqual([expect.objectContaining({
      proto: 'tcp', hostPort: 80, reachableFrom: [],
      conditionallyReachableFrom: [{ interface: 'eth0', sources: ['0.0.0.0/0'], conditions: [{ line: 5, reason: expect.stringContaining('allowed') }], whenNoneMatch: false }],
    })]);
  });
});

