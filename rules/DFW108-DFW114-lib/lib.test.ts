// The shared helpers of DFW108–DFW114: each with cases that must and must not hold.
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import { AddressSet } from '../../src/model/addrset.ts';
import { dockerHost, lineOf } from './fixtures.ts';
import {
  cidrsOf, iptablesCommand, interfaceLabels, OTHER_INTERFACE_PACKET_NAME, packetInterface, publicSources, sampleSource, stepRule,
} from './trace.ts';

describe('publicSources', () => {
  it('holds internet addresses and the documentation ranges examples use', () => {
    for (const a of ['8.8.8.8', '203.0.113.50', '198.51.100.7']) expect(publicSources('ipv4').containsText(a), a).toBe(true);
    expect(publicSources('ipv6').containsText('2001:db8::1')).toBe(true);
  });
  it('leaves out private, loopback, link-local and multicast sources', () => {
    for (const a of ['10.1.2.3', '172.17.0.2', '192.168.1.1', '127.0.0.1', '169.254.1.1', '224.0.0.1']) {
      expect(publicSources('ipv4').containsText(a), a).toBe(false);
    }
    for (const a of ['::1', 'fd00::1', 'fe80::1']) expect(publicSources('ipv6').containsText(a), a).toBe(false);
  });
});

describe('sampleSource', () => {
  it('prefers a readable public address the set holds', () => {
    expect(sampleSource('ipv4', publicSources('ipv4'))).toBe('203.0.113.50');
    expect(sampleSource('ipv6', publicSources('ipv6'))).toBe('2001:db8:ffee::50');
  });
  it('falls back to the lowest address, and gives nothing for an empty set', () => {
    expect(sampleSource('ipv4', AddressSet.fromCidrs('ipv4', ['172.31.5.0/24']))).toBe('172.31.5.0');
    expect(sampleSource('ipv4', AddressSet.fromCidrs('ipv4', []))).toBeUndefined();
  });
});

describe('interface labels and family helpers', () => {
  it('reads a list of interfaces as a message would', () => {
    expect(interfaceLabels(['eth0'])).toBe('eth0');
    expect(interfaceLabels(['eth0', 'wg0', 'tailscale0'])).toBe('eth0, wg0 or tailscale0');
  });
  it('the stand-in interface keeps its packet name apart from real ones', () => {
    expect(packetInterface('eth0')).toBe('eth0');
    expect(packetInterface('eth0')).not.toBe(OTHER_INTERFACE_PACKET_NAME);
  });
  it('picks the command and the CIDRs of a family', () => {
    expect(iptablesCommand('ipv4')).toBe('iptables');
    expect(iptablesCommand('ipv6')).toBe('ip6tables');
    expect(cidrsOf('ipv6', ['10.0.0.0/8', 'fd00::/8'])).toEqual(['fd00::/8']);
    expect(cidrsOf('ipv4', ['10.0.0.0/8', 'fd00::/8'])).toEqual(['10.0.0.0/8']);
  });
});

describe('stepRule and the fixture host', () => {
  const text = dockerHost({ layout: '28.2', header: true });
  const ruleset = parse(text, { file: 'host.txt' }).rulesets[0]!;
  it('the generated host parses, and lineOf finds a line it holds', () => {
    expect(parse(text, { file: 'host.txt' }).errors).toEqual([]);
    expect(text.split('\n')[lineOf(text, '-A FORWARD -j DOCKER-USER') - 1]).toBe('-A FORWARD -j DOCKER-USER');
  });
  it('maps a rule step to its rule and a policy step to none', () => {
    const forward = ruleset.tables.find((t) => t.name === 'filter')!.chains.find((c) => c.name === 'FORWARD')!;
    expect(stepRule(ruleset, { table: 'filter', chain: 'FORWARD', position: 1 } as never)).toBe(forward.rules[0]);
    expect(stepRule(ruleset, { table: 'filter', chain: 'FORWARD', position: 0 } as never)).toBeUndefined();
  });
});
