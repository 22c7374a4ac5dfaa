// The Docker model: what Docker wrote into a ruleset (layout, bridges,
// containers, published ports, DOCKER-USER, userland-proxy, swarm) and which
// rules are Docker's own. Recognised from the rules alone; no daemon is asked.
// The contract is docker-types.ts; the work is in docker/.

export { recogniseDocker } from './docker/recognise.ts';
export { boundOnAllAddresses, ipv6Publication, proxiedOverIpv6, proxyServing } from './docker/proxy.ts';
export { describeDocker, dockerModelJson, type DockerModelJson } from './docker/describe.ts';
export { TEMPLATES as DOCKER_TEMPLATES, type Template as DockerTemplate } from './docker/templates.ts';
