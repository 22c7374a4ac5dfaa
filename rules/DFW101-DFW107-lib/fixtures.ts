// Test fixtures for the DFW101–DFW107 rule tests: the Docker host generator the
// DFW108–DFW114 tests use (every layout, bridge modes, admin rule slots), with the
// few shorthands these tests lean on: ports on docker0, rules appended after
// Docker's DOCKER-USER RETURN, a host without Docker's raw rules, and finding a
// line by a fragment of it.

import { at as atLine, DOCKER0, DOCKER0_V6, dockerHost as generate, type HostSpec, type Publish } from '../DFW108-DFW114-lib/fixtures.ts';

export type { Layout, Publish } from '../DFW108-DFW114-lib/fixtures.ts';

export interface Spec extends Omit<HostSpec, 'bridges'> {
  /** Published ports of docker0 (default: 8080 → 172.17.0.2:80, or fd00:17::2 for IPv6). */
  readonly ports?: readonly Publish[];
  /** Rules appended to DOCKER-USER after Docker's `-j RETURN` (`iptables -A` after dockerd started). */
  readonly afterReturn?: readonly string[];
  /** Docker 28+ with DOCKER_INSECURE_NO_IPTABLES_RAW=1: no raw-table rules. */
  readonly noRaw?: boolean;
}

/** The iptables-save (or ip6tables-save) text of a Docker host with one bridge, docker0. */
export function dockerHost(spec: Spec): string {
  const { ports, afterReturn, noRaw, ...rest } = spec;
  const base = spec.family === 'ipv6' ? DOCKER0_V6 : DOCKER0;
  const bridges = [ports ? { ...base, ports } : base];
  const text = afterReturn
    ? generate({ ...rest, bridges, userReturn: false, user: [...(spec.user ?? []), '-A DOCKER-USER -j RETURN', ...afterReturn] })
    : generate({ ...rest, bridges });
  return noRaw ? text.replace(/^\*raw\n[\s\S]*?^COMMIT\n/m, '') : text;
}

/** Where a finding on the first line equal to (else containing) `fragment` is placed: the whole line. */
export function at(text: string, fragment: string): { line: number; column: number; endColumn: number } {
  const lines = text.split('\n');
  const line = lines.find((l) => l === fragment) ?? lines.find((l) => l.includes(fragment));
  if (line === undefined) throw new Error(`fixture has no line with ${JSON.stringify(fragment)}`);
  return atLine(text, line);
}

/** A fragment of the DNAT rule of a published host port. */
export function dnatLine(hostPort: number): string {
  return `--dport ${hostPort} -j DNAT`;
}
