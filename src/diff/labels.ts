// How targets, interfaces and source sets are named in every diff format.

import type { Family } from '../../grammar/ast.ts';
import { AddressSet } from '../model/addrset.ts';
import { OTHER_INTERFACE } from './reachability.ts';
import type { Target } from './types.ts';

export function targetLabel(target: Target): string {
  const port = target.anyOtherPort ? 'any other port' : String(target.port);
  const at = target.anyOtherPort ? `${target.address} ${port}` : target.address.includes(':') ? `[${target.address}]:${port}` : `${target.address}:${port}`;
  switch (target.category) {
    case 'published': return `published ${target.proto} ${at}${target.container ? ` → ${target.container.address.includes(':') ? `[${target.container.address}]` : target.container.address}:${target.container.port}` : ''}`;
    case 'direct': return `containers on ${target.bridge || 'a Docker bridge'} by direct routing, ${target.proto} ${port}`;
    case 'host': return `host ${target.proto} ${port}`;
  }
}

export function interfaceLabel(iface: string): string {
  return iface === OTHER_INTERFACE ? 'any other interface' : iface;
}

/** A source set as people read it: `0.0.0.0/0 except 198.51.100.0/24` rather than 24 CIDRs. */
export function sourcesText(family: Family, cidrs: readonly string[]): string {
  if (cidrs.length === 0) return 'nowhere';
  const complement = AddressSet.fromCidrs(family, cidrs).complement().toCidrs();
  if (complement.length > 0 && complement.length < cidrs.length) return `${family === 'ipv4' ? '0.0.0.0/0' : '::/0'} except ${complement.join(', ')}`;
  return cidrs.join(', ');
}
