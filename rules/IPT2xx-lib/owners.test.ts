import { describe, expect, it } from 'vitest';
import { chainMatcher, TOOL_CHAINS } from './owners.ts';

describe('chainMatcher', () => {
  it('matches globs whole, * for any characters', () => {
    const m = chainMatcher(['KUBE-*', '*_direct', 'f2b-?']);
    expect(['KUBE-SVC-X', 'KUBE-', 'INPUT_direct', 'f2b-?'].map(m)).toEqual([true, true, true, true]);
    expect(['XKUBE-SVC', 'KUBE', 'INPUT_direct2', 'f2b-s'].map(m)).toEqual([false, false, false, false]);
    const inner = chainMatcher(['a*b*c', 'x*y']);
    expect(['abc', 'aXbYc', 'xy', 'x-y'].map(inner)).toEqual([true, true, true, true]);
    expect(['ab', 'abcd', 'xyz', 'y'].map(inner)).toEqual([false, false, false, false]);
  });

  it('lets a later !pattern keep a name an earlier pattern caught, and a later plain one catch it again', () => {
    const m = chainMatcher(['DOCKER*', '!DOCKER-USER', 'DOCKER-USER-*']);
    expect(['DOCKER', 'DOCKER-USER', 'DOCKER-USER-X', 'INPUT'].map(m)).toEqual([true, false, true, false]);
  });

  it('matches nothing without patterns, and the default list catches the tools\' chains', () => {
    expect(chainMatcher([])('KUBE-SVC-X')).toBe(false);
    const m = chainMatcher(TOOL_CHAINS);
    expect(['KUBE-SEP-ABC', 'cali-fw-x', 'FWDI_public', 'my-chain'].map(m)).toEqual([true, true, true, false]);
  });
});
