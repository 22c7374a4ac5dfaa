// Test fixtures for the DFW101–DFW107 rule tests: a Docker host's iptables-save
// in the exact shape each Docker release writes it (docs/docker-layouts.md §2–6),
// one bridge (docker0) with published ports, and slots for the administrator's
// rules. Line numbers in tests come from `lineOf`, so a case names the rule it
// expects a finding on rather than a number that shifts with the fixture.

export type Layout = 'pre-28' | '28.1' | '28.2' | '29';

export interface Publish {
  readonly hostPort: number;
  readonly container: string;
  readonly containerPort: number;
  readonly proto?: 'tcp' | 'udp';
  /** `127.0.0.1`, a host address; absent: every address. */
  readonly hostAddress?: string;
}

export interface HostSpec {
  readonly layout: Layout;
  readonly family?: 'ipv4' | 'ipv6';
  readonly ports?: readonly Publish[];
  readonly inputPolicy?: 'ACCEPT' | 'DROP';
  readonly forwardPolicy?: 'ACCEPT' | 'DROP';
  /** Admin rules, full `-A CHAIN …` lines. */
  readonly input?: readonly string[];
  /** Admin rules appended to FORWARD after Docker's. */
  readonly forward?: readonly string[];
  /** Admin rules at the top of DOCKER-USER. */
  readonly user?: readonly string[];
  /** Rules appended to DOCKER-USER after Docker's RETURN (pre-28 / 28.1 / 28.2.1 only). */
  readonly afterReturn?: readonly string[];
  /** 28.2.2+ / 29: no RETURN in DOCKER-USER. Default true for '29', false otherwise. */
  readonly noReturn?: boolean;
  /** Extra user chains: `:NAME - [0:0]` lines are written for them. */
  readonly chains?: readonly string[];
  /** Rules of the extra chains. */
  readonly chainRules?: readonly string[];
  /** Leave Docker's raw drops out (DOCKER_INSECURE_NO_IPTABLES_RAW=1). */
  readonly noRaw?: boolean;
}

export const DEFAULT_PORTS: readonly Publish[] = [{ hostPort: 8080, container: '172.17.0.2', containerPort: 80 }];
export const DEFAULT_PORTS_V6: readonly Publish[] = [{ hostPort: 8080, container: 'fd00:17::2', containerPort: 80 }];

function hostMask(family: 'ipv4' | 'ipv6'): string {
  return family === 'ipv6' ? '128' : '32';
}

function target(family: 'ipv4' | 'ipv6', address: string, port: number): string {
  return family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The iptables-save text of a Docker host (docker0 only). */
export function dockerHost(spec: HostSpec): string {
  const family = spec.family ?? 'ipv4';
  const m = hostMask(family);
  const layout = spec.layout;
  const ports = spec.ports ?? (family === 'ipv6' ? DEFAULT_PORTS_V6 : DEFAULT_PORTS);
  const subnet = family === 'ipv6' ? 'fd00:17::/64' : '172.17.0.0/16';
  const loopback = family === 'ipv6' ? '::1/128' : '127.0.0.0/8';
  const modern = layout !== 'pre-28';
  const noReturn = spec.noReturn ?? layout === '29';
  const containers = [...new Set(ports.map((p) => p.container))];
  const out: string[] = [];

  if (modern && !spec.noRaw) {
    out.push('*raw', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]');
    if (layout === '28.1') {
      for (const p of ports) out.push(`-A PREROUTING -d ${p.container}/${m} ! -i docker0 -p ${p.proto ?? 'tcp'} -m ${p.proto ?? 'tcp'} --dport ${p.containerPort} -j DROP`);
    } else {
      for (const c of containers) out.push(`-A PREROUTING -d ${c}/${m} ! -i docker0 -j DROP`);
    }
    for (const p of ports) {
      if (p.hostAddress === '127.0.0.1') out.push(`-A PREROUTING -d 127.0.0.1/32 ! -i lo -p ${p.proto ?? 'tcp'} -m ${p.proto ?? 'tcp'} --dport ${p.hostPort} -j DROP`);
    }
    out.push('COMMIT');
  }

  out.push('*filter', `:INPUT ${spec.inputPolicy ?? 'DROP'} [0:0]`, `:FORWARD ${spec.forwardPolicy ?? 'DROP'} [0:0]`, ':OUTPUT ACCEPT [0:0]');
  const chains = layout === 'pre-28' ? ['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER']
    : layout === '29' ? ['DOCKER', 'DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-FORWARD', 'DOCKER-INTERNAL', 'DOCKER-USER']
      : ['DOCKER', 'DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-FORWARD', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER'];
  for (const c of [...chains, ...(spec.chains ?? [])].sort()) out.push(`:${c} - [0:0]`);
  out.push('-A INPUT -i lo -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', ...(spec.input ?? []));
  out.push('-A FORWARD -j DOCKER-USER');
  if (layout === 'pre-28') {
    out.push(
      '-A FORWARD -j DOCKER-ISOLATION-STAGE-1',
      '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -o docker0 -j DOCKER',
      '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
      '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
    );
  } else {
    out.push('-A FORWARD -j DOCKER-FORWARD');
  }
  out.push(...(spec.forward ?? []));
  const accepts = ports.map((p) => `-A DOCKER -d ${p.container}/${m} ! -i docker0 -o docker0 -p ${p.proto ?? 'tcp'} -m ${p.proto ?? 'tcp'} --dport ${p.containerPort} -j ACCEPT`);
  // ≤27 appends per-port ACCEPTs, 28+ inserts them (newest first).
  out.push(...(modern ? [...new Set(accepts)].reverse() : [...new Set(accepts)]));
  if (modern) {
    out.push(
      '-A DOCKER ! -i docker0 -o docker0 -j DROP',
      '-A DOCKER-BRIDGE -o docker0 -j DOCKER',
      '-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A DOCKER-FORWARD -j DOCKER-CT',
      layout === '29' ? '-A DOCKER-FORWARD -j DOCKER-INTERNAL' : '-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1',
      '-A DOCKER-FORWARD -j DOCKER-BRIDGE',
      '-A DOCKER-FORWARD -i docker0 -j ACCEPT',
    );
    if (layout !== '29') out.push('-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2', '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP');
  } else {
    out.push(
      '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
      '-A DOCKER-ISOLATION-STAGE-1 -j RETURN',
      '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
      '-A DOCKER-ISOLATION-STAGE-2 -j RETURN',
    );
  }
  out.push(...(spec.user ?? []));
  if (!noReturn) out.push('-A DOCKER-USER -j RETURN', ...(spec.afterReturn ?? []));
  out.push(...(spec.chainRules ?? []));
  out.push('COMMIT');

  out.push('*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]');
  out.push('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', `-A OUTPUT ! -d ${loopback} -m addrtype --dst-type LOCAL -j DOCKER`);
  out.push(`-A POSTROUTING -s ${subnet} ! -o docker0 -j MASQUERADE`);
  if (!modern) {
    for (const p of ports) out.push(`-A POSTROUTING -s ${p.container}/${m} -d ${p.container}/${m} -p ${p.proto ?? 'tcp'} -m ${p.proto ?? 'tcp'} --dport ${p.containerPort} -j MASQUERADE`);
  }
  if (layout !== '29') out.push('-A DOCKER -i docker0 -j RETURN');
  for (const p of ports) {
    const bind = p.hostAddress ? `-d ${p.hostAddress}/${m} ` : '';
    const linkLocal = family === 'ipv6' && modern ? '! -s fe80::/10 ' : '';
    out.push(`-A DOCKER ${linkLocal}${bind}! -i docker0 -p ${p.proto ?? 'tcp'} -m ${p.proto ?? 'tcp'} --dport ${p.hostPort} -j DNAT --to-destination ${target(family, p.container, p.containerPort)}`);
  }
  out.push('COMMIT', '');
  return out.join('\n');
}

/** 1-based line of the first line equal to `line` (or, failing that, containing it). */
export function lineOf(text: string, line: string): number {
  const lines = text.split('\n');
  let index = lines.indexOf(line);
  if (index === -1) index = lines.findIndex((l) => l.includes(line));
  if (index === -1) throw new Error(`fixture has no line ${JSON.stringify(line)}`);
  return index + 1;
}

/** Where a finding on a whole rule line is placed: line, column 1, end column after its last character. */
export function at(text: string, line: string): { line: number; column: number; endColumn: number } {
  const n = lineOf(text, line);
  return { line: n, column: 1, endColumn: text.split('\n')[n - 1]!.length + 1 };
}

/** The DNAT line of a published host port. */
export function dnatLine(hostPort: number): string {
  return `--dport ${hostPort} -j DNAT`;
}
