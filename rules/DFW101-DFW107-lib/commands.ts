// The iptables commands the DFW101–DFW107 fixes print. Docker filters published
// ports after DNAT, so every fix that names a published port matches the
// connection's original destination with conntrack, as Docker's documentation
// recommends ("Match the original IP and ports for requests").

import type { Family } from '../../grammar/ast.ts';
import type { DockerModel, PublishedPort } from '../../src/model/docker-types.ts';
import { iptablesCommand } from '../DFW108-DFW114-lib/trace.ts';

export { iptablesCommand };

/** `[-N DOCKER-USER, -I FORWARD 1 -j DOCKER-USER]` when the chain is missing (e.g. Docker 20.10's ip6tables). */
export function ensureDockerUser(family: Family, docker: DockerModel): string[] {
  if (docker.dockerUser.exists) return [];
  const cmd = iptablesCommand(family);
  return [`${cmd} -N DOCKER-USER`, `${cmd} -I FORWARD 1 -j DOCKER-USER`];
}

function hostMask(family: Family): number {
  return family === 'ipv6' ? 128 : 32;
}

/**
 * `-p tcp -m conntrack [--ctorigdst 192.0.2.10/32] --ctorigdstport 8080 --ctdir ORIGINAL`:
 * the connections to this published port, whatever DNAT made of them.
 */
export function originalDestinationSpec(family: Family, port: PublishedPort): string {
  const address = port.via === 'routed' ? port.container.address : port.hostAddress;
  const orig = address ? ` --ctorigdst ${address}/${hostMask(family)}` : '';
  return `-p ${port.proto} -m conntrack${orig} --ctorigdstport ${port.hostPort} --ctdir ORIGINAL`;
}

/** Joins the parts of a rule specification, leaving out empty ones. */
export function spec(...parts: readonly (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join(' ');
}
