// Docker host dumps, built by replaying the iptables commands dockerd issues (see
// ../shared/docs/docker-layouts.md, §2–§6) into a Ruleset, so rule order follows from
// Docker's own -I/-A/EnsureJumpRule calls instead of being written out by hand.
//
// Layouts (IPv4, bridge driver, nat gateway mode):
//   '27'      20.10 – 27.x: everything in FORWARD, ISOLATION chains with RETURNs
//   '28.0.0'  ipset-based FORWARD rules (needs the docker-ext-bridges-v4 ipset to load)
//   '28.0.1'  28.0.1 – 28.1.x: DOCKER-FORWARD/-CT/-BRIDGE, raw drop per published port
//   '28.2.0'  28.2.0 – 28.2.1: raw drop per container
//   '28.2.2'  28.2.2 – 28.5.x: as 28.2.0 without the DOCKER-USER RETURN
//   '29'      29.x iptables backend: DOCKER-INTERNAL, no ISOLATION chains, no skip-DNAT RETURNs
import { createRandom } from './prng.mjs';
import { Ruleset, ipv4 } from './ruleset.mjs';

export const DOCKER_LAYOUTS = ['27', '28.0.0', '28.0.1', '28.2.0', '28.2.2', '29'];

/** Administrator mistakes a host can be generated with (ids from docker-layouts.md §12). */
export const DOCKER_MISTAKES = {
  M1: 'INPUT rule meant to block a published port (never sees DNAT-ed traffic)',
  M2: 'DOCKER-USER rule on the host port instead of --ctorigdstport',
  M3: 'DOCKER-USER rule appended after its RETURN',
  M4: 'DOCKER-USER source allow-list without a RELATED,ESTABLISHED exception',
  M8: 'FORWARD rule appended after Docker\'s rules',
};

const CONTAINER_PROFILES = [
  // [image-ish name, [container port, protocol][], weight]
  ['nginx', [[80, 'tcp'], [443, 'tcp']], 20],
  ['app', [[8080, 'tcp']], 18],
  ['node', [[3000, 'tcp']], 10],
  ['postgres', [[5432, 'tcp']], 8],
  ['mysql', [[3306, 'tcp']], 5],
  ['redis', [[6379, 'tcp']], 8],
  ['mongo', [[27017, 'tcp']], 4],
  ['grafana', [[3000, 'tcp']], 4],
  ['prometheus', [[9090, 'tcp']], 4],
  ['elasticsearch', [[9200, 'tcp'], [9300, 'tcp']], 3],
  ['rabbitmq', [[5672, 'tcp'], [15672, 'tcp']], 3],
  ['mosquitto', [[1883, 'tcp'], [8883, 'tcp']], 2],
  ['coredns', [[53, 'udp'], [53, 'tcp']], 2],
  ['syslog', [[514, 'udp']], 2],
  ['statsd', [[8125, 'udp']], 2],
  ['wireguard', [[51820, 'udp']], 2],
  ['minio', [[9000, 'tcp'], [9001, 'tcp']], 3],
];

const EXTERNAL_INTERFACES = ['eth0', 'ens3', 'enp1s0', 'ens18', 'eno1'];

/** Docker's default address pools: 172.17–31.0.0/16, then 192.168.0.0/16 in /20s. */
function bridgeSubnet(index) {
  if (index < 15) return { base: (172 << 24) | ((17 + index) << 16), prefix: 16 };
  if (index < 31) return { base: (192 << 24) | (168 << 16) | ((index - 15) << 12), prefix: 20 };
  return { base: (10 << 24) | ((200 + Math.floor((index - 31) / 256)) << 16) | (((index - 31) % 256) << 8), prefix: 24 };
}

function planHost(options) {
  const {
    bridges = 20,
    publishedPorts = 500,
    seed = 1,
    internalNetworks = 0,
    iccDisabled = 0,
    loopbackShare = 0.08,
    hostIpShare = 0.04,
  } = options;
  const random = createRandom(`docker-host/${seed}`);
  const networks = [];
  for (let i = 0; i < bridges + internalNetworks; i++) {
    const { base, prefix } = bridgeSubnet(i);
    networks.push({
      bridge: i === 0 ? 'docker0' : `br-${random.hex(12)}`,
      subnet: `${ipv4(base)}/${prefix}`,
      base,
      internal: i >= bridges,
      icc: !(i > 0 && i < bridges && i <= iccDisabled),
      containers: [],
      nextHost: 2,
    });
  }
  const published = networks.filter((network) => !network.internal);
  const used = new Set(); // `${hostIp}/${proto}/${hostPort}`
  const hostPortFor = (hostIp, proto, preferred) => {
    const free = (port) => !used.has(`${hostIp}/${proto}/${port}`) && !used.has(`0.0.0.0/${proto}/${port}`)
      && !(hostIp === '0.0.0.0' && [...used].some((key) => key.endsWith(`/${proto}/${port}`)));
    let port = preferred;
    while (!free(port)) port = random.chance(0.5) ? random.int(8000, 9999) : random.int(10000, 40000);
    used.add(`${hostIp}/${proto}/${port}`);
    return port;
  };
  const publicIp = ipv4((10 << 24) | (random.int(0, 255) << 8) | random.int(2, 250));

  let remaining = publishedPorts;
  while (remaining > 0 && published.length > 0) {
    // Busy networks are more likely (a few compose projects carry most of the ports).
    const network = published[Math.min(published.length - 1, Math.floor(published.length * random.next() ** 1.7))];
    const [name, ports] = random.weighted(CONTAINER_PROFILES.map(([n, p, w]) => [[n, p], w]));
    const ip = ipv4(network.base + network.nextHost++);
    const mappings = [];
    for (const [containerPort, proto] of ports) {
      if (remaining === 0) break;
      if (mappings.length > 0 && random.chance(0.3)) continue;
      const hostIp = random.chance(loopbackShare) ? '127.0.0.1' : random.chance(hostIpShare) ? publicIp : '0.0.0.0';
      const preferred = random.chance(0.6) ? containerPort : random.int(8000, 9999);
      mappings.push({ proto, containerPort, hostIp, hostPort: hostPortFor(hostIp, proto, preferred) });
      remaining--;
    }
    network.containers.push({ name, ip, mappings });
  }
  return { networks, random, publicIp };
}

/** The replayed command sequence for one Docker layout. */
function dockerDaemon(ruleset, layout, userlandProxy) {
  const filter = ruleset.table('filter');
  const nat = ruleset.table('nat');
  const raw = layout === '27' ? null : ruleset.table('raw');
  const legacy = layout === '27';
  const ipset = layout === '28.0.0';
  const docker29 = layout === '29';
  const hasIsolation = !docker29;
  const userReturn = !['28.2.2', '29'].includes(layout);
  const rawPerContainer = ['28.2.0', '28.2.2', '29'].includes(layout);
  const natJumps = () => {
    const prerouting = '-m addrtype --dst-type LOCAL -j DOCKER';
    const output = userlandProxy ? '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER' : '-m addrtype --dst-type LOCAL -j DOCKER';
    if (!nat.has('PREROUTING', prerouting)) nat.append('PREROUTING', prerouting);
    if (!nat.has('OUTPUT', output)) nat.append('OUTPUT', output);
  };
  /** firewall_linux.go arrangeUserFilterRule */
  const arrangeUserFilterRule = () => {
    filter.chain('DOCKER-USER');
    if (userReturn && !filter.rules.get('DOCKER-USER').some((rule) => rule.endsWith('-j RETURN'))) {
      filter.append('DOCKER-USER', '-j RETURN');
    }
    filter.moveToTop('FORWARD', '-j DOCKER-USER');
  };

  return {
    start() {
      nat.chain('DOCKER');
      filter.chain('DOCKER');
      if (hasIsolation) filter.chain('DOCKER-ISOLATION-STAGE-1').chain('DOCKER-ISOLATION-STAGE-2');
      if (legacy) {
        filter.append('DOCKER-ISOLATION-STAGE-1', '-j RETURN').append('DOCKER-ISOLATION-STAGE-2', '-j RETURN');
      } else if (ipset) {
        filter.insert('FORWARD', '-m set --match-set docker-ext-bridges-v4 dst -j DOCKER');
        filter.moveToTop('FORWARD', '-j DOCKER-ISOLATION-STAGE-1');
        filter.insert('FORWARD', '-m set --match-set docker-ext-bridges-v4 dst -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
      } else {
        filter.chain('DOCKER-FORWARD').chain('DOCKER-BRIDGE').chain('DOCKER-CT');
        if (docker29) filter.chain('DOCKER-INTERNAL');
        natJumps();
        filter.moveToTop('FORWARD', '-j DOCKER-FORWARD');
        filter.moveToTop('DOCKER-FORWARD', '-j DOCKER-BRIDGE');
        filter.moveToTop('DOCKER-FORWARD', docker29 ? '-j DOCKER-INTERNAL' : '-j DOCKER-ISOLATION-STAGE-1');
        filter.moveToTop('DOCKER-FORWARD', '-j DOCKER-CT');
      }
      arrangeUserFilterRule();
    },

    addNetwork({ bridge: br, subnet, internal, icc }) {
      if (internal) {
        const chain = docker29 ? 'DOCKER-INTERNAL' : 'DOCKER-ISOLATION-STAGE-1';
        filter.insert(chain, `! -d ${subnet} -i ${br} -j DROP`);
        filter.insert(chain, `! -s ${subnet} -o ${br} -j DROP`);
        const verdict = `-i ${br} -o ${br} -j ${icc ? 'ACCEPT' : 'DROP'}`;
        if (legacy) icc ? filter.insert('FORWARD', verdict) : filter.append('FORWARD', verdict);
        else filter.append(ipset ? 'FORWARD' : 'DOCKER-FORWARD', verdict);
        if (legacy) arrangeUserFilterRule();
        return;
      }
      nat.insert('POSTROUTING', `-s ${subnet} ! -o ${br} -j MASQUERADE`);
      if (userlandProxy && !docker29) nat.insert('DOCKER', `-i ${br} -j RETURN`);
      if (!userlandProxy) nat.insert('POSTROUTING', `-o ${br} -m addrtype --src-type LOCAL -j MASQUERADE`);
      if (legacy) {
        if (icc) filter.insert('FORWARD', `-i ${br} -o ${br} -j ACCEPT`);
        else filter.append('FORWARD', `-i ${br} -o ${br} -j DROP`);
        filter.insert('FORWARD', `-i ${br} ! -o ${br} -j ACCEPT`);
        natJumps();
        filter.insert('FORWARD', `-o ${br} -j DOCKER`);
        filter.insert('FORWARD', `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
        filter.moveToTop('FORWARD', '-j DOCKER-ISOLATION-STAGE-1');
        filter.insert('DOCKER-ISOLATION-STAGE-1', `-i ${br} ! -o ${br} -j DOCKER-ISOLATION-STAGE-2`);
        filter.insert('DOCKER-ISOLATION-STAGE-2', `-o ${br} -j DROP`);
        arrangeUserFilterRule();
        return;
      }
      natJumps();
      if (!ipset) {
        filter.append('DOCKER-CT', `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
        filter.append('DOCKER-BRIDGE', `-o ${br} -j DOCKER`);
      }
      const forward = ipset ? 'FORWARD' : 'DOCKER-FORWARD';
      if (icc) {
        filter.append(forward, `-i ${br} -j ACCEPT`);
      } else {
        filter.append(forward, `-i ${br} -o ${br} -j DROP`);
        filter.append(forward, `-i ${br} ! -o ${br} -j ACCEPT`);
      }
      filter.append('DOCKER', `! -i ${br} -o ${br} -j DROP`);
      if (hasIsolation) {
        filter.append('DOCKER-ISOLATION-STAGE-1', `-i ${br} ! -o ${br} -j DOCKER-ISOLATION-STAGE-2`);
        filter.insert('DOCKER-ISOLATION-STAGE-2', `-o ${br} -j DROP`);
      }
    },

    addContainer({ bridge: br, internal }, { ip }) {
      if (rawPerContainer && !internal) raw.append('PREROUTING', `-d ${ip}/32 ! -i ${br} -j DROP`);
    },

    publishPort({ bridge: br }, { ip }, { proto, containerPort, hostIp, hostPort }) {
      const hostMatch = hostIp === '0.0.0.0' ? '' : `-d ${hostIp}/32 `;
      const fromOutside = userlandProxy ? `! -i ${br} ` : '';
      const port = (p) => `-p ${proto} -m ${proto} --dport ${p}`;
      nat.append('DOCKER', `${hostMatch}${fromOutside}${port(hostPort)} -j DNAT --to-destination ${ip}:${containerPort}`);
      const accept = `-d ${ip}/32 ! -i ${br} -o ${br} ${port(containerPort)} -j ACCEPT`;
      if (legacy) filter.append('DOCKER', accept);
      else filter.insert('DOCKER', accept);
      if (legacy || !userlandProxy) nat.append('POSTROUTING', `-s ${ip}/32 -d ${ip}/32 ${port(containerPort)} -j MASQUERADE`);
      if (raw && !rawPerContainer) raw.append('PREROUTING', `-d ${ip}/32 ! -i ${br} ${port(containerPort)} -j DROP`);
      if (raw && hostIp === '127.0.0.1') raw.append('PREROUTING', `-d 127.0.0.1/32 ! -i lo ${port(hostPort)} -j DROP`);
    },
  };
}

/** A typical hand-written INPUT policy (rules.v4 / a firewall script) loaded at boot. */
function adminRules(filter, random, externalInterface, managementNet) {
  filter.policy('INPUT', random.chance(0.8) ? 'DROP' : 'ACCEPT');
  filter.append('INPUT', '-i lo -j ACCEPT')
    .append('INPUT', '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')
    .append('INPUT', '-m conntrack --ctstate INVALID -j DROP')
    .append('INPUT', '-p icmp -m icmp --icmp-type 8 -j ACCEPT')
    .append('INPUT', `-s ${managementNet} -p tcp -m tcp --dport 22 -j ACCEPT`);
  if (random.chance(0.5)) filter.append('INPUT', `-i ${externalInterface} -p tcp -m multiport --dports 80,443 -j ACCEPT`);
  if (random.chance(0.4)) filter.append('INPUT', `-s ${managementNet} -p tcp -m tcp --dport 9100 -j ACCEPT`);
  if (random.chance(0.3)) filter.append('INPUT', '-p udp -m udp --dport 51820 -j ACCEPT');
  if (random.chance(0.3)) filter.append('INPUT', '-m limit --limit 5/min -j LOG --log-prefix "INPUT-DROP: "');
}

/**
 * Builds the host's Ruleset. Options: bridges, publishedPorts, seed, layout, userlandProxy,
 * forwardPolicy, internalNetworks, iccDisabled (count of user bridges with icc=false),
 * loopbackShare, hostIpShare, adminInput, mistakes (keys of DOCKER_MISTAKES),
 * dockerUserRules (extra correct DOCKER-USER rules: a --ctorigdstport filter).
 */
export function buildDockerHost(options = {}) {
  const {
    layout = '27',
    userlandProxy = true,
    forwardPolicy = 'DROP',
    adminInput = true,
    mistakes = [],
    dockerUserRules = false,
  } = options;
  if (!DOCKER_LAYOUTS.includes(layout)) throw new RangeError(`unknown Docker layout ${layout} (one of ${DOCKER_LAYOUTS.join(', ')})`);
  for (const mistake of mistakes) {
    if (!(mistake in DOCKER_MISTAKES)) throw new RangeError(`unknown mistake ${mistake}`);
  }
  const { networks, random } = planHost(options);
  const ruleset = new Ruleset();
  const filter = ruleset.table('filter');
  ruleset.table('nat');
  const externalInterface = random.pick(EXTERNAL_INTERFACES);
  const managementNet = random.pick(['10.0.0.0/8', `10.${random.int(0, 255)}.0.0/16`, `192.168.${random.int(0, 255)}.0/24`]);
  const mappings = networks.flatMap((network) => network.containers.flatMap((container) =>
    container.mappings.map((mapping) => ({ network, container, mapping }))));
  // Mistakes aim at ports published on all addresses, the ones an administrator worries about.
  const exposed = mappings.filter(({ mapping }) => mapping.hostIp === '0.0.0.0');
  const somePublished = () => random.pick(exposed.length > 0 ? exposed : mappings);

  // Boot: the administrator's saved rules are restored before dockerd starts.
  if (adminInput) adminRules(filter, random, externalInterface, managementNet);
  if (mappings.length > 0 && mistakes.includes('M1')) {
    const { mapping } = somePublished();
    filter.append('INPUT', `-i ${externalInterface} -p ${mapping.proto} -m ${mapping.proto} --dport ${mapping.hostPort} -j DROP`);
  }
  if (mappings.length > 0 && mistakes.includes('M8')) {
    const { container, mapping } = somePublished();
    filter.append('FORWARD', `-d ${container.ip}/32 -i ${externalInterface} -p ${mapping.proto} -m ${mapping.proto} --dport ${mapping.containerPort} -j DROP`);
  }
  const userRules = [];
  if (mappings.length > 0 && mistakes.includes('M2')) {
    const { mapping } = somePublished();
    userRules.push(`-i ${externalInterface} -p ${mapping.proto} -m ${mapping.proto} --dport ${mapping.hostPort} -j DROP`);
  }
  if (mappings.length > 0 && dockerUserRules) {
    const { mapping } = somePublished();
    userRules.push(`-i ${externalInterface} -p ${mapping.proto} -m conntrack --ctorigdstport ${mapping.hostPort} --ctdir ORIGINAL -j DROP`);
  }
  if (mistakes.includes('M4')) userRules.push(`! -s ${managementNet} -i ${externalInterface} -j DROP`);
  if (userRules.length > 0) {
    filter.chain('DOCKER-USER');
    for (const rule of userRules) filter.append('DOCKER-USER', rule);
  }

  filter.policy('FORWARD', forwardPolicy);
  const daemon = dockerDaemon(ruleset, layout, userlandProxy);
  daemon.start();
  for (const network of networks) daemon.addNetwork(network);
  for (const network of networks) {
    for (const container of network.containers) {
      daemon.addContainer(network, container);
      for (const mapping of container.mappings) daemon.publishPort(network, container, mapping);
    }
  }

  // After dockerd is up: `iptables -A DOCKER-USER ...` lands below the RETURN (M3).
  if (mistakes.includes('M3')) {
    filter.append('DOCKER-USER', `-s ${random.pick(['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24'])} -i ${externalInterface} -j DROP`);
  }
  return ruleset;
}

/** iptables-save text of a Docker host; see buildDockerHost for the options. */
export function dockerHostRuleset(options = {}) {
  return buildDockerHost(options).render();
}
