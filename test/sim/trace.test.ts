// Traversal semantics the kernel differential test cannot easily provoke:
// gotos, RETURN from a built-in chain, loops, undecidable matches, OUTPUT's device.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { recogniseDocker } from '../../src/model/docker.ts';
import { createSimulator } from '../../src/sim/index.ts';
import type { Packet } from '../../src/sim/types.ts';

function simulator(text: string, localAddresses: string[] = ['203.0.113.10']) {
  const result = parse(text, { file: 'sim.txt' });
  expect(result.errors).toEqual([]);
  const ruleset = result.rulesets[0]!;
  return createSimulator(ruleset, recogniseDocker(ruleset), { localAddresses, externalInterfaces: ['eth0'] });
}

const toHost = (dport: number, extra: Partial<Packet> = {}): Packet => ({
  family: 'ipv4', proto: 'tcp', src: '198.51.100.5', dst: '203.0.113.10', dport, inInterface: 'eth0', ...extra,
});

const filter = (...lines: string[]) => ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...lines, 'COMMIT', ''].join('\n');

describe('trace', () => {
  it('a goto does not come back; a jump does', () => {
    const sim = simulator(filter(
      ':A - [0:0]', ':B - [0:0]',
      '-A INPUT -p tcp --dport 1 -g A',
      '-A INPUT -p tcp --dport 2 -j B',
      '-A INPUT -j DROP',
      '-A A -j RETURN',
      '-A B -j RETURN',
    ));
    // goto A, RETURN from A returns to INPUT's caller: the built-in chain ends with its policy.
    expect(sim.trace(toHost(1))).toMatchObject({ verdict: 'accept', reaches: { kind: 'host', port: 1 } });
    // jump B, RETURN continues after the jump: dropped by INPUT rule 3.
    const t = sim.trace(toHost(2));
    expect(t.verdict).toBe('drop');
    expect(t.steps.map((s) => `${s.chain}#${s.position}:${s.action}`)).toEqual(['INPUT#2:jump', 'B#1:return', 'INPUT#3:drop']);
  });

  it('RETURN in a built-in chain applies its policy', () => {
    const sim = simulator(filter('-A INPUT -j RETURN', '-A INPUT -j ACCEPT').replace(':INPUT ACCEPT', ':INPUT DROP'));
    expect(sim.trace(toHost(22))).toMatchObject({ verdict: 'drop', reason: expect.stringMatching(/policy/) });
  });

  it('an undecidable match that changes the outcome makes the verdict unknown and names the rule', () => {
    const sim = simulator(filter('-A INPUT -p tcp -m recent --rcheck --name bad -j DROP', '-A INPUT -j ACCEPT'));
    const t = sim.trace(toHost(22));
    expect(t.verdict).toBe('unknown');
    expect(t.uncertain).toEqual([{ line: 5, reason: expect.stringMatching(/recent/) }]);
  });

  it('an undecidable match that cannot change the outcome keeps the verdict', () => {
    const sim = simulator(filter('-A INPUT -m limit --limit 3/min -j LOG', '-A INPUT -p tcp -m statistic --mode random --probability 0.5 -j ACCEPT', '-A INPUT -j ACCEPT'));
    expect(sim.trace(toHost(22)).verdict).toBe('accept');
  });

  it('a jump loop ends the walk with an unknown verdict instead of hanging', () => {
    // Not loadable by the kernel (ELOOP), but a linter reads files nobody loaded yet.
    const text = filter(':A - [0:0]', ':B - [0:0]', '-A INPUT -j A', '-A A -j B', '-A B -j A');
    const sim = simulator(text);
    const t = sim.trace(toHost(22));
    expect(t.verdict).toBe('unknown');
    expect(t.uncertain[0]!.reason).toMatch(/loop/);
  });

  it('a chain jumped to twice in the same packet state is walked once; a changed mark walks it again', () => {
    const sim = simulator(filter(
      ':A - [0:0]', ':B - [0:0]',
      '-A INPUT -j A',
      '-A INPUT -j ACCEPT',
      '-A A -j B',
      '-A A -j B',
      '-A A -p tcp --dport 2 -j MARK --set-xmark 0x1/0xffffffff',
      '-A A -j B',
      '-A B -m mark --mark 0x1 -j DROP',
    ));
    const once = sim.trace(toHost(1));
    expect(once.verdict).toBe('accept');
    expect(once.steps.map((s) => `${s.chain}#${s.position}:${s.action}`)).toEqual(['INPUT#1:jump', 'A#1:jump', 'A#2:jump', 'A#4:jump', 'INPUT#2:accept']);
    const marked = sim.trace(toHost(2));
    expect(marked.verdict).toBe('drop');
    expect(marked.steps.map((s) => `${s.chain}#${s.position}:${s.action}`)).toEqual(['INPUT#1:jump', 'A#1:jump', 'A#2:jump', 'A#3:mark', 'A#4:jump', 'B#1:drop']);
  });

  it('a chain whose walk took an undecidable branch is walked again on every jump', () => {
    const sim = simulator(filter(
      ':A - [0:0]', ':B - [0:0]',
      '-A INPUT -j A',
      '-A INPUT -j ACCEPT',
      '-A A -j B',
      '-A A -j B',
      '-A B -p tcp -m statistic --mode nth --every 2 -j MARK --set-xmark 0x1/0xffffffff',
      '-A B -m mark --mark 0x1 -j DROP',
    ));
    // Each pass of B decides the statistic match anew, as the kernel does per rule evaluation.
    const t = sim.trace(toHost(1));
    expect(t.verdict).toBe('unknown');
    expect(t.steps.filter((s) => s.chain === 'B').length).toBe(2);
  });

  it('DNAT happens before routing, so a published port is forwarded, not delivered to INPUT', () => {
    const sim = simulator([
      '*nat', ':PREROUTING ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
      'COMMIT',
      '*filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
      '-A INPUT -p tcp --dport 8080 -j DROP',
      'COMMIT', '',
    ].join('\n'));
    const t = sim.trace(toHost(8080));
    expect(t).toMatchObject({ verdict: 'accept', reaches: { kind: 'container', address: '172.17.0.2', port: 80, interface: 'docker0' } });
    expect(t.steps.some((s) => s.hook === 'INPUT')).toBe(false);
    expect(t.final).toMatchObject({ dst: '172.17.0.2', dport: 80 });
  });

  it('nat chains see only the first packet of a connection', () => {
    const sim = simulator([
      '*nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80', 'COMMIT',
      '*filter', ':INPUT ACCEPT [0:0]', 'COMMIT', '',
    ].join('\n'));
    expect(sim.trace(toHost(8080, { state: 'ESTABLISHED' })).steps.some((s) => s.table === 'nat')).toBe(false);
  });

  it('without a rule that needs connection tracking, the kernel tracks nothing and never consults nat', () => {
    // Seen in namespaces (Docker 28's goldens with no network left): nat PREROUTING's jump to an
    // empty DOCKER chain is traced only once some rule loads conntrack.
    const nat = ['*nat', ':PREROUTING ACCEPT [0:0]', ':DOCKER - [0:0]', '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', 'COMMIT'];
    const untracked = simulator([...nat, ...filter('-A INPUT -p tcp --dport 22 -j ACCEPT').split('\n')].join('\n'));
    expect(untracked.compiled.tracksConnections).toBe(false);
    expect(untracked.trace(toHost(22)).steps.map((s) => `${s.table}/${s.chain}#${s.position}`)).toEqual(['filter/INPUT#1']);
    for (const user of ['-A INPUT -m conntrack --ctstate INVALID -j DROP', '-A INPUT -m state --state INVALID -j DROP', '-A INPUT -m connmark --mark 1 -j DROP']) {
      const tracked = simulator([...nat, ...filter(user, '-A INPUT -p tcp --dport 22 -j ACCEPT').split('\n')].join('\n'));
      expect(tracked.compiled.tracksConnections, user).toBe(true);
      expect(tracked.trace(toHost(22)).steps.filter((s) => s.table === 'nat').map((s) => `${s.chain}#${s.position}`), user).toEqual(['PREROUTING#1', 'PREROUTING#0', 'INPUT#0']);
    }
    // Any NAT target loads it too, wherever it is.
    const masquerading = simulator([...nat.slice(0, -1), ':POSTROUTING ACCEPT [0:0]', '-A POSTROUTING -o eth0 -j MASQUERADE', 'COMMIT', ...filter().split('\n')].join('\n'));
    expect(masquerading.compiled.tracksConnections).toBe(true);
  });

  it('a bridge\'s first address is the host\'s gateway unless a container holds it', () => {
    const bridge = (container: string) => simulator([
      '*nat', ':PREROUTING ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      `-A DOCKER ! -i docker0 -p udp -m udp --dport 500 -j DNAT --to-destination ${container}:500`,
      'COMMIT', ...filter().split('\n'),
    ].join('\n'));
    expect(bridge('172.17.0.2').host.route('172.17.0.1')).toEqual({ kind: 'local' });
    // A hand-made bridge whose container took .1 (seen in a real Rancher host's dump).
    expect(bridge('172.17.0.1').host.route('172.17.0.1')).toEqual({ kind: 'bridge', interface: 'docker0' });
  });

  it('OUTPUT matches the device of the route taken before nat OUTPUT re-routes', () => {
    const sim = simulator([
      '*nat', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]',
      '-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER',
      '-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      'COMMIT',
      '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT DROP [0:0]',
      '-A OUTPUT -o lo -j ACCEPT',
      'COMMIT', '',
    ].join('\n'));
    const t = sim.trace({ family: 'ipv4', proto: 'tcp', src: '203.0.113.10', dst: '203.0.113.10', dport: 8080, fromHost: true });
    expect(t).toMatchObject({ verdict: 'accept', reaches: { kind: 'container', address: '172.17.0.2' } });
  });
});
