// A kube-proxy (iptables mode, v1.28+ shapes) node dump of an exact rule count: the
// filter and nat chains kube-proxy writes for ClusterIP, NodePort and LoadBalancer
// services (session affinity, externalTrafficPolicy=Local, loadBalancerSourceRanges,
// services without endpoints), as iptables-save prints them back.
import { createHash } from 'node:crypto';
import { createRandom } from './prng.mjs';
import { Ruleset, ipv4, savedProbability } from './ruleset.mjs';

const POD_CIDR = { base: (10 << 24) | (64 << 16), bits: 10 }; // 10.64.0.0/10
const SERVICE_CIDR_BASE = (10 << 24) | (0 << 16); // 10.0.0.0/16
const LB_POOL_BASE = (203 << 24) | (0 << 16) | (113 << 8); // 203.0.113.0/24, then beyond
const CLUSTER_CIDR = '10.64.0.0/10';
const MASQ_MARK = '0x4000/0x4000';

const NAMESPACE_WORDS = ['payments', 'checkout', 'identity', 'billing', 'search', 'catalog', 'shipping', 'ledger',
  'analytics', 'ml', 'data', 'monitoring', 'logging', 'ingress', 'storefront', 'recs', 'fraud', 'support', 'media'];
const NAMESPACE_SUFFIXES = ['', '', '-prod', '-stg', '-dev', '-eu', '-us'];
const SERVICE_WORDS = ['api', 'gateway', 'worker', 'web', 'backend', 'redis', 'postgres', 'kafka', 'consumer',
  'scheduler', 'indexer', 'cache', 'grpc', 'session', 'profile', 'orders', 'cart', 'pricing', 'webhook',
  'exporter', 'query', 'writer', 'reader', 'auth', 'token', 'thumbs'];
const SERVICE_SUFFIXES = ['', '', '', '-v2', '-main', '-replica', '-internal'];
const PORTS = [
  // [name, protocol, port, targetPort]
  ['http', 'tcp', 80, 8080], ['https', 'tcp', 443, 8443], ['grpc', 'tcp', 9090, 9090], ['metrics', 'tcp', 9100, 9100],
  ['http-api', 'tcp', 8080, 8080], ['tcp-postgres', 'tcp', 5432, 5432], ['tcp-redis', 'tcp', 6379, 6379],
  ['kafka-broker', 'tcp', 9092, 9092], ['http-admin', 'tcp', 8081, 8081], ['dns', 'udp', 53, 53],
  ['dns-tcp', 'tcp', 53, 53], ['syslog', 'udp', 514, 5514], ['', 'tcp', 3000, 3000], ['web', 'tcp', 8000, 8000],
];

/** kube-proxy's chain suffix: base32 of the first 80 bits of a SHA-256. */
function chainHash(text) {
  const bytes = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; i < 10; i++) {
    value = (value << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function baseRules(filter, nat, mangle) {
  for (const chain of ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY']) mangle.chain(chain);
  for (const chain of ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY',
    'KUBE-NODEPORTS', 'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']) filter.chain(chain);
  for (const chain of ['KUBE-KUBELET-CANARY', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING',
    'KUBE-PROXY-CANARY', 'KUBE-SERVICES']) nat.chain(chain);

  const lbFirewall = '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL';
  const externalPortals = '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES';
  const servicePortals = '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';
  filter.append('INPUT', lbFirewall)
    .append('INPUT', '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
    .append('INPUT', externalPortals)
    .append('INPUT', '-j KUBE-FIREWALL')
    .append('FORWARD', lbFirewall)
    .append('FORWARD', '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')
    .append('FORWARD', servicePortals)
    .append('FORWARD', externalPortals)
    // What the CNI (flannel here) adds next to kube-proxy.
    .append('FORWARD', `-s ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`)
    .append('FORWARD', `-d ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`)
    .append('OUTPUT', lbFirewall)
    .append('OUTPUT', servicePortals)
    .append('OUTPUT', '-j KUBE-FIREWALL')
    .append('KUBE-FIREWALL', '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP')
    .append('KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP')
    .append('KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK} -j ACCEPT`)
    .append('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');

  nat.append('PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    .append('OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    .append('POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING')
    .append('POSTROUTING', `-s ${CLUSTER_CIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`)
    .append('KUBE-MARK-MASQ', `-j MARK --set-xmark ${MASQ_MARK}`)
    .append('KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_MARK} -j RETURN`)
    .append('KUBE-POSTROUTING', '-j MARK --set-xmark 0x4000/0x0')
    .append('KUBE-POSTROUTING', '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
}

const LAST_SERVICES_RULE = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';

/**
 * iptables-save text of a kube-proxy node with exactly `ruleCount` rules ("-A" lines).
 * Services are added until the next one would overshoot; the remainder is filled with
 * services that have no endpoints (one REJECT rule each), as real clusters have.
 */
export function kubeProxyRuleset(ruleCount, { seed = 1 } = {}) {
  const random = createRandom(`kube-proxy/${seed}`);
  const ruleset = new Ruleset();
  const mangle = ruleset.table('mangle');
  const filter = ruleset.table('filter');
  const nat = ruleset.table('nat');
  const tables = { filter, nat };
  baseRules(filter, nat, mangle);
  const reserved = 1; // LAST_SERVICES_RULE
  if (ruleset.ruleCount + reserved > ruleCount) {
    throw new RangeError(`a kube-proxy ruleset needs at least ${ruleset.ruleCount + reserved} rules`);
  }

  const namespaces = Array.from({ length: 40 + Math.floor(ruleCount / 400) }, (_, i) =>
    `${random.pick(NAMESPACE_WORDS)}${random.pick(NAMESPACE_SUFFIXES)}${i % 3 === 0 ? `-${i}` : ''}`);
  const usedNames = new Set();
  const nodePorts = random.shuffle(Array.from({ length: 32768 - 30000 }, (_, i) => 30000 + i));
  const usedPodIps = new Set();
  let nextServiceIp = SERVICE_CIDR_BASE + 10;
  let nextLbIp = LB_POOL_BASE + 10;

  const serviceIp = () => ipv4(nextServiceIp += random.int(1, 5));
  const podIp = () => {
    for (;;) {
      const value = POD_CIDR.base + random.int(1, (1 << (32 - POD_CIDR.bits)) - 2);
      if ((value & 255) !== 0 && (value & 255) !== 255 && !usedPodIps.has(value)) {
        usedPodIps.add(value);
        return ipv4(value);
      }
    }
  };
  function serviceName() {
    for (;;) {
      const words = random.chance(0.5) ? random.pick(SERVICE_WORDS) : `${random.pick(SERVICE_WORDS)}-${random.pick(SERVICE_WORDS)}`;
      const name = `${random.pick(namespaces)}/${words}${random.pick(SERVICE_SUFFIXES)}`;
      if (!usedNames.has(name)) {
        usedNames.add(name);
        return name;
      }
    }
  }

  /** The rules of one service, as [table, chain, rule] triples, in kube-proxy's write order. */
  function serviceRules() {
    const name = serviceName();
    // NodePorts are a finite range (2,768): once nearly used up, services stay ClusterIP.
    const type = nodePorts.length < 16 ? 'ClusterIP' : random.weighted([['ClusterIP', 85], ['NodePort', 10], ['LoadBalancer', 5]]);
    const needsNodePort = type !== 'ClusterIP';
    const localTraffic = type === 'LoadBalancer' && random.chance(0.4);
    const sourceRanges = type === 'LoadBalancer' && random.chance(0.3)
      ? Array.from({ length: random.int(1, 3) }, () => {
        const prefix = random.pick([25, 26, 27]);
        const block = 1 << (32 - prefix);
        return `${random.pick(['198.51.100', '192.0.2', '100.64.12'])}.${random.int(0, 256 / block - 1) * block}/${prefix}`;
      })
      : [];
    const affinity = random.chance(0.05);
    const clusterIp = serviceIp();
    const lbIp = type === 'LoadBalancer' ? ipv4(nextLbIp += random.int(1, 3)) : null;
    const endpointCount = random.weighted([[1, 25], [2, 30], [3, 20], [random.int(4, 6), 12], [random.int(7, 15), 8], [random.int(16, 60), 5]]);
    const endpoints = Array.from({ length: endpointCount }, podIp);
    const portCount = random.weighted([[1, 80], [2, 15], [3, 5]]);
    const ports = random.shuffle(PORTS).slice(0, portCount);
    const out = [];
    const add = (table, chain, rule) => out.push([table, chain, rule]);

    for (const [portName, proto, port, targetPort] of ports) {
      const portId = portName ? `${name}:${portName}` : name;
      const hash = chainHash(portId + proto);
      const svc = `KUBE-SVC-${hash}`;
      const ext = `KUBE-EXT-${hash}`;
      const svl = `KUBE-SVL-${hash}`;
      const fw = `KUBE-FW-${hash}`;
      const nodePort = needsNodePort ? nodePorts.pop() : undefined;
      const healthCheckPort = localTraffic ? nodePorts.pop() : undefined;
      const match = `-p ${proto} -m comment --comment`;
      const dport = `-m ${proto} --dport`;
      const seps = endpoints.map((ip) => ({ ip, chain: `KUBE-SEP-${chainHash(portId + proto + `${ip}:${targetPort}`)}` }));

      add('nat', 'KUBE-SERVICES', `-d ${clusterIp}/32 ${match} "${portId} cluster IP" ${dport} ${port} -j ${svc}`);
      if (lbIp) {
        add('nat', 'KUBE-SERVICES', `-d ${lbIp}/32 ${match} "${portId} loadbalancer IP" ${dport} ${port} -j ${sourceRanges.length ? fw : ext}`);
      }
      add('nat', svc, `! -s ${CLUSTER_CIDR} -d ${clusterIp}/32 ${match} "${portId} cluster IP" ${dport} ${port} -j KUBE-MARK-MASQ`);
      if (affinity) {
        for (const sep of seps) {
          add('nat', svc, `-m comment --comment "${portId}" -m recent --rcheck --seconds 10800 --reap --name ${sep.chain} --mask 255.255.255.255 --rsource -j ${sep.chain}`);
        }
      }
      // Endpoint i of n is taken with probability 1/(n-i); the last one unconditionally.
      const balance = (chain, targets) => targets.forEach((sep, i) => {
        const remaining = targets.length - i;
        const statistic = remaining > 1 ? ` -m statistic --mode random --probability ${savedProbability(1 / remaining)}` : '';
        add('nat', chain, `-m comment --comment "${portId}"${statistic} -j ${sep.chain}`);
      });
      balance(svc, seps);
      for (const sep of seps) {
        const recent = affinity ? ` -m recent --set --name ${sep.chain} --mask 255.255.255.255 --rsource` : '';
        add('nat', sep.chain, `-s ${sep.ip}/32 -m comment --comment "${portId}" -j KUBE-MARK-MASQ`);
        add('nat', sep.chain, `${match} "${portId}"${recent} -m ${proto} -j DNAT --to-destination ${sep.ip}:${targetPort}`);
      }
      if (nodePort !== undefined) {
        add('nat', 'KUBE-NODEPORTS', `${match} "${portId}" ${dport} ${nodePort} -j ${ext}`);
        if (localTraffic) {
          add('nat', ext, `-s ${CLUSTER_CIDR} -m comment --comment "pod traffic for ${portId} external destinations" -j ${svc}`);
          add('nat', ext, `-m comment --comment "masquerade LOCAL traffic for ${portId} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
          add('nat', ext, `-m comment --comment "route LOCAL traffic for ${portId} external destinations" -m addrtype --src-type LOCAL -j ${svc}`);
          add('nat', ext, `-j ${svl}`);
          // This node runs about a third of the endpoints (at least one).
          balance(svl, seps.filter((_, i) => i % 3 === 0));
          add('filter', 'KUBE-NODEPORTS', `${match} "${portId} health check node port" ${dport} ${healthCheckPort} -j ACCEPT`);
        } else {
          add('nat', ext, `-m comment --comment "masquerade traffic for ${portId} external destinations" -j KUBE-MARK-MASQ`);
          add('nat', ext, `-j ${svc}`);
        }
      }
      if (sourceRanges.length) {
        for (const range of sourceRanges) {
          add('nat', fw, `-s ${range} -m comment --comment "${portId} loadbalancer IP" -j ${ext}`);
        }
        add('nat', fw, `-m comment --comment "other traffic to ${portId} will be dropped by KUBE-PROXY-FIREWALL"`);
        add('filter', 'KUBE-PROXY-FIREWALL', `-d ${lbIp}/32 ${match} "${portId} traffic not accepted by ${fw}" ${dport} ${port} -j DROP`);
      }
    }
    return out;
  }

  const target = ruleCount - reserved;
  // A service that does not fit is dropped; after a run of misses the rest is filler.
  for (let misses = 0; misses < 20;) {
    const rules = serviceRules();
    if (ruleset.ruleCount + rules.length > target) {
      misses++;
      continue;
    }
    misses = 0;
    for (const [table, chain, rule] of rules) tables[table].chain(chain).append(chain, rule);
  }
  while (ruleset.ruleCount < target) {
    const [portName, proto, port] = random.pick(PORTS);
    const portId = portName ? `${serviceName()}:${portName}` : serviceName();
    filter.append('KUBE-SERVICES', `-d ${serviceIp()}/32 -p ${proto} -m comment --comment "${portId} has no endpoints" -m ${proto} --dport ${port} -j REJECT --reject-with icmp-port-unreachable`);
  }
  nat.append('KUBE-SERVICES', LAST_SERVICES_RULE);
  return ruleset.render();
}
