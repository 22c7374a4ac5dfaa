// Finer version hints inside a layout, from rule shapes that changed between
// releases (docs/docker-layouts.md §2.10, §5, §13).

import type { Family } from '../../../grammar/ast.ts';
import type { DockerLayout, DockerUserChain } from '../docker-types.ts';

export interface HintFacts {
  readonly family: Family;
  readonly layout: DockerLayout;
  readonly candidates: readonly DockerLayout[];
  readonly dockerUser: DockerUserChain;
  readonly routed: boolean;
  readonly referencedBridges: readonly string[];
  /** Whether a Docker rule of this template exists; `state` asks about the ≤ 24 ingress reply rule. */
  has(templateId: string, test?: (text: string) => boolean): boolean;
}

export function versionHints(facts: HintFacts): string[] {
  const hints: string[] = [];
  const { layout, candidates } = facts;
  if (layout === 'none') {
    if (facts.referencedBridges.length > 0) {
      hints.push(`bridges ${facts.referencedBridges.join(', ')} are referenced but Docker wrote no chains: iptables: false or the nftables backend (check \`nft list ruleset\`)`);
    }
    if (facts.dockerUser.exists) hints.push('DOCKER-USER left over from an earlier iptables-backend daemon');
    return hints;
  }
  if (layout === 'pre-28') {
    if (facts.has('ingress-reply-accept', (text) => text.includes('-m state'))) hints.push('swarm ingress replies matched with -m state: 20.10–24.x');
    else if (facts.has('ingress-reply-accept')) hints.push('swarm ingress replies matched with -m conntrack: 25.0+');
    if (facts.family === 'ipv6' && !facts.dockerUser.exists) hints.push('no DOCKER-USER in ip6tables: 20.10 (or DOCKER-USER removed)');
    if (facts.routed) hints.push('gateway mode routed: 27.x');
    else if (facts.has('nat-wsl2-loopback-return')) hints.push('WSL2 mirrored-networking rule: 27.x');
  }
  if (candidates.includes('28.2')) {
    const older = candidates.includes('28.0.1-28.1') ? '28.0.1–28.2.1' : '28.2.0–28.2.1';
    hints.push(facts.dockerUser.returnRule
      ? `DOCKER-USER ends in RETURN: ${older}, or a host upgraded from an older release`
      : facts.dockerUser.exists ? 'no RETURN in DOCKER-USER: 28.2.2 or later' : 'no DOCKER-USER chain');
  }
  return hints;
}
