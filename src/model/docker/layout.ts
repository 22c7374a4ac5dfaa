// Which of Docker's chain layouts wrote a ruleset (docs/docker-layouts.md §0, §13).
//
// The filter table's chains decide the epoch; the raw, nat and DOCKER-USER
// rules narrow it further. Some epochs leave identical dumps (28.0.1–28.1 and
// 28.2 differ only in the raw table), so the result is the set of layouts the
// dump is consistent with, plus the newest of them as the best guess.

import type { DockerLayout } from '../docker-types.ts';
import { dockerChainsPresent, isUnconditional, type RulesetIndex } from './chains.ts';
import { ALL_LAYOUTS, TEMPLATES, matchTemplate, type Template } from './templates.ts';

export interface LayoutVerdict {
  readonly layout: DockerLayout;
  /** Every layout the dump is consistent with, oldest first. */
  readonly candidates: readonly DockerLayout[];
}

function template(id: string): readonly Template[] {
  return TEMPLATES.filter((t) => t.id === id);
}

function anyMatch(index: RulesetIndex, ids: readonly string[], accept: (captures: Record<string, string>) => boolean = () => true): boolean {
  for (const id of ids) {
    for (const t of template(id)) {
      for (const rule of index.rules(t.table, t.chain)) {
        const captures = matchTemplate(t, rule.text);
        if (captures && accept(captures as Record<string, string>)) return true;
      }
    }
  }
  return false;
}

function hasUnconditionalReturn(index: RulesetIndex, chain: string): boolean {
  return index.rules('filter', chain).some((r) => isUnconditional(r) && r.target?.kind === 'verdict' && r.target.name === 'RETURN');
}

/** The layouts the filter table alone allows. */
function fromFilter(index: RulesetIndex): DockerLayout[] {
  const has = (name: string) => index.chain('filter', name) !== undefined;
  const isolation = has('DOCKER-ISOLATION-STAGE-1') || has('DOCKER-ISOLATION-STAGE-2');
  if (has('DOCKER-INTERNAL')) return ['29'];
  if (has('DOCKER-FORWARD') || has('DOCKER-CT') || has('DOCKER-BRIDGE')) return isolation ? ['28.0.1-28.1', '28.2'] : ['29'];
  const ipset = index.rules('filter', 'FORWARD').some((r) => r.matches.some((m) => m.kind === 'set' && /^docker-ext-bridges-v[46]$/.test(m.setName)));
  if (ipset) return ['28.0.0'];
  if (has('DOCKER') || isolation) {
    const legacyForward = anyMatch(index, ['forward-docker-jump', 'forward-ct-accept']);
    const isolationReturns = hasUnconditionalReturn(index, 'DOCKER-ISOLATION-STAGE-1') || hasUnconditionalReturn(index, 'DOCKER-ISOLATION-STAGE-2');
    if (legacyForward || isolationReturns) return ['pre-28'];
    // FORWARD flushed by someone: 28.0.0's per-bridge DROPs in DOCKER still tell.
    if (anyMatch(index, ['filter-bridge-drop', 'filter-bridge-unprotected-accept'])) return ['28.0.0'];
    return ['pre-28'];
  }
  return [...ALL_LAYOUTS];
}

/** Narrow `candidates` by a piece of evidence, unless that would leave nothing (conflicting leftovers). */
function narrow(candidates: DockerLayout[], allowed: readonly DockerLayout[]): DockerLayout[] {
  const kept = candidates.filter((c) => allowed.includes(c));
  return kept.length > 0 ? kept : candidates;
}

export function detectLayout(index: RulesetIndex): LayoutVerdict {
  if (dockerChainsPresent(index).size === 0) return { layout: 'none', candidates: ['none'] };
  let candidates = fromFilter(index);
  const notLoopback = (c: Record<string, string>) => !c['c']?.startsWith('127.');
  if (anyMatch(index, ['raw-port-drop'], notLoopback)) candidates = narrow(candidates, ['28.0.0', '28.0.1-28.1']);
  if (anyMatch(index, ['raw-container-drop', 'raw-trusted-interface-accept'], notLoopback)) candidates = narrow(candidates, ['28.2', '29']);
  if (anyMatch(index, ['raw-loopback-port-drop'])) candidates = narrow(candidates, ['28.0.0', '28.0.1-28.1', '28.2', '29']);
  if (anyMatch(index, ['nat-skip-bridge-return'])) candidates = narrow(candidates, ['pre-28', '28.0.0', '28.0.1-28.1', '28.2']);
  if (index.rules('nat', 'DOCKER').some((r) => r.source?.negated && r.source.address === 'fe80::' && r.target?.kind === 'DNAT')) {
    candidates = narrow(candidates, ['28.0.0', '28.0.1-28.1', '28.2', '29']);
  }
  // Docker ≤ 28.2.1 re-adds the RETURN whenever it is missing; 28.2.2+ never writes it.
  if (index.chain('filter', 'DOCKER-USER') && !hasUnconditionalReturn(index, 'DOCKER-USER')) candidates = narrow(candidates, ['28.2', '29']);
  return { layout: bestGuess(index, candidates), candidates };
}

/**
 * The newest candidate, except between 28.0.1–28.1 and 28.2 with DOCKER-USER's RETURN
 * present: 28.0.1–28.1.x was current for three months, 28.2.0–28.2.1 for days (28.2.2
 * stopped writing the RETURN), so the older is the better bet.
 */
function bestGuess(index: RulesetIndex, candidates: readonly DockerLayout[]): DockerLayout {
  if (candidates.length === 2 && candidates[0] === '28.0.1-28.1' && candidates[1] === '28.2' && hasUnconditionalReturn(index, 'DOCKER-USER')) {
    return '28.0.1-28.1';
  }
  return candidates[candidates.length - 1]!;
}

const LAYOUT_TEXT: Readonly<Record<DockerLayout, string>> = {
  'none': 'no Docker chains (iptables: false, the nftables firewall backend, or no Docker)',
  'pre-28': 'Docker 20.10–27.x (per-bridge rules in FORWARD, DOCKER-ISOLATION-STAGE-1/2)',
  '28.0.0': 'Docker 28.0.0 (ipset docker-ext-bridges rules in FORWARD, per-port raw drops)',
  '28.0.1-28.1': 'Docker 28.0.1–28.1.x (DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE, per-port raw drops)',
  '28.2': 'Docker 28.2–28.5.x (DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE, per-container raw drops)',
  '29': 'Docker 29.x, iptables backend (DOCKER-INTERNAL, no isolation chains)',
};

export function layoutText(layout: DockerLayout): string {
  return LAYOUT_TEXT[layout];
}

/** "Docker 28.0.1–28.5.x" for an ambiguous verdict. */
export function candidatesText(candidates: readonly DockerLayout[]): string {
  const key = candidates.join(' ');
  if (key === '28.0.1-28.1 28.2') {
    return 'Docker 28.0.1–28.5.x (DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE; no raw direct-access drops shown, so 28.0.1–28.1.x and 28.2+ look alike)';
  }
  return `one of: ${candidates.map((c) => LAYOUT_TEXT[c]).join('; ')}`;
}
