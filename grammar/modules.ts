// Option tables for match modules and targets, and the typed interpretation
// of their options. Tables say how many values an option takes and whether a
// `!` may precede it; builders turn the collected options into AST nodes.

import type {
  AddrType, ConntrackState, Family, Match, RawOption, Span, Target, MarkOperation, NatRange,
} from './ast.ts';
import {
  fail, readAddress, readEnumList, readIcmpType, readInterface, readMarkValue, readNatRange, readPortList,
  readPortMatch, readPortRange, readProtocol, readU32, type Read,
} from './values.ts';

export interface OptionSpec {
  /** Number of values; 'rest' takes words until the next option (unknown modules). */
  readonly arity: number;
  readonly invertible: boolean;
  /** The name iptables-save prints, when this is an alias. */
  readonly canonical?: string;
}

type OptionTable = Readonly<Record<string, OptionSpec>>;

const one = (invertible = true, canonical?: string): OptionSpec => ({ arity: 1, invertible, canonical });
const flag = (invertible = false, canonical?: string): OptionSpec => ({ arity: 0, invertible, canonical });

const PORT_OPTIONS: OptionTable = {
  '--sport': one(), '--source-port': one(true, '--sport'),
  '--dport': one(), '--destination-port': one(true, '--dport'),
};

/** Typed match modules. Anything else known is kept as an opaque option list. */
export const MATCH_OPTIONS: Readonly<Record<string, OptionTable>> = {
  tcp: {
    ...PORT_OPTIONS,
    '--tcp-flags': { arity: 2, invertible: true }, '--syn': flag(true), '--tcp-option': one(),
  },
  udp: PORT_OPTIONS,
  udplite: PORT_OPTIONS,
  sctp: { ...PORT_OPTIONS, '--chunk-types': { arity: 2, invertible: true } },
  dccp: { ...PORT_OPTIONS, '--dccp-types': one(), '--dccp-option': one() },
  icmp: { '--icmp-type': one() },
  icmp6: { '--icmpv6-type': one() },
  multiport: {
    '--sports': one(), '--source-ports': one(true, '--sports'),
    '--dports': one(), '--destination-ports': one(true, '--dports'),
    '--ports': one(),
  },
  conntrack: {
    '--ctstate': one(), '--ctproto': one(), '--ctorigsrc': one(), '--ctorigdst': one(), '--ctreplsrc': one(),
    '--ctrepldst': one(), '--ctorigsrcport': one(), '--ctorigdstport': one(), '--ctreplsrcport': one(),
    '--ctrepldstport': one(), '--ctstatus': one(), '--ctexpire': one(), '--ctdir': one(false),
  },
  state: { '--state': one() },
  addrtype: {
    '--src-type': one(), '--dst-type': one(), '--limit-iface-in': flag(), '--limit-iface-out': flag(),
  },
  iprange: { '--src-range': one(), '--dst-range': one() },
  comment: { '--comment': one(false) },
  mark: { '--mark': one() },
  connmark: { '--mark': one() },
  set: {
    '--match-set': { arity: 2, invertible: true }, '--set': { arity: 2, invertible: true, canonical: '--match-set' },
    '--return-nomatch': flag(), '--update-counters': flag(true), '--update-subcounters': flag(true),
    '--packets-eq': one(), '--packets-lt': one(false), '--packets-gt': one(false),
    '--bytes-eq': one(), '--bytes-lt': one(false), '--bytes-gt': one(false),
  },
  physdev: {
    '--physdev-in': one(), '--physdev-out': one(), '--physdev-is-in': flag(true),
    '--physdev-is-out': flag(true), '--physdev-is-bridged': flag(true),
  },
  mac: { '--mac-source': one() },
  pkttype: { '--pkt-type': one() },
  limit: { '--limit': one(false), '--limit-burst': one(false) },
  statistic: { '--mode': one(false), '--probability': one(), '--every': one(), '--packet': one(false) },
  owner: {
    '--uid-owner': one(), '--gid-owner': one(), '--socket-exists': flag(true), '--suppl-groups': flag(false),
  },
  u32: { '--u32': one() },
  string: {
    '--algo': one(false), '--from': one(false), '--to': one(false), '--string': one(), '--hex-string': one(), '--icase': flag(),
  },
  recent: {
    '--set': flag(true), '--rcheck': flag(true), '--update': flag(true), '--remove': flag(true), '--seconds': one(false),
    '--reap': flag(), '--hitcount': one(false), '--rttl': flag(), '--name': one(false), '--mask': one(false),
    '--rsource': flag(), '--rdest': flag(),
  },
};

/** Match modules the kernel has but dockfw-lint keeps as option lists (outcome unknowable statically, or irrelevant). */
export const OPAQUE_MATCHES: ReadonlySet<string> = new Set([
  'ah', 'bpf', 'cgroup', 'cluster', 'connbytes', 'connlabel', 'connlimit', 'cpu', 'devgroup', 'dscp', 'dst',
  'ecn', 'esp', 'eui64', 'frag', 'hashlimit', 'hbh', 'helper', 'hl', 'ipv6header', 'ipvs', 'length', 'limit',
  'mh', 'nfacct', 'osf', 'owner', 'policy', 'quota', 'rateest', 'realm', 'recent', 'rpfilter', 'rt', 'socket',
  'statistic', 'string', 'tcpmss', 'time', 'tos', 'ttl', 'u32', 'ipcomp', 'l2tp', 'condition', 'geoip', 'xor',
]);

export const TYPED_MATCHES: ReadonlySet<string> = new Set([
  'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmp6', 'multiport', 'conntrack', 'state', 'addrtype', 'iprange',
  'comment', 'mark', 'connmark', 'set', 'physdev', 'mac', 'pkttype',
]);

const TARGET_OPTIONS: Readonly<Record<string, OptionTable>> = {
  ACCEPT: {}, DROP: {}, RETURN: {}, QUEUE: {}, NOTRACK: {}, TRACE: {},
  REJECT: { '--reject-with': one(false) },
  LOG: {
    '--log-level': one(false), '--log-prefix': one(false), '--log-tcp-sequence': flag(), '--log-tcp-options': flag(),
    '--log-ip-options': flag(), '--log-uid': flag(), '--log-macdecode': flag(),
  },
  NFLOG: {
    '--nflog-group': one(false), '--nflog-prefix': one(false), '--nflog-range': one(false),
    '--nflog-size': one(false), '--nflog-threshold': one(false),
  },
  DNAT: { '--to-destination': one(false), '--random': flag(), '--persistent': flag() },
  SNAT: { '--to-source': one(false), '--random': flag(), '--random-fully': flag(), '--persistent': flag() },
  MASQUERADE: { '--to-ports': one(false), '--random': flag(), '--random-fully': flag() },
  REDIRECT: { '--to-ports': one(false), '--random': flag() },
  MARK: { '--set-mark': one(false), '--set-xmark': one(false), '--and-mark': one(false), '--or-mark': one(false), '--xor-mark': one(false) },
  CONNMARK: {
    '--set-mark': one(false), '--set-xmark': one(false), '--save-mark': flag(), '--restore-mark': flag(),
    '--nfmask': one(false), '--ctmask': one(false), '--mask': one(false), '--and-mark': one(false),
    '--or-mark': one(false), '--xor-mark': one(false),
  },
  CT: {
    '--notrack': flag(), '--helper': one(false), '--ctevents': one(false), '--expevents': one(false),
    '--zone': one(false), '--zone-orig': one(false), '--zone-reply': one(false), '--timeout': one(false),
  },
  TCPMSS: { '--set-mss': one(false), '--clamp-mss-to-pmtu': flag() },
  CHECKSUM: { '--checksum-fill': flag() },
};

/** Targets the kernel has whose options dockfw-lint keeps as a list. */
const OPAQUE_TARGETS: ReadonlySet<string> = new Set([
  'AUDIT', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'DNPT', 'DSCP', 'ECN', 'HL', 'HMARK', 'IDLETIMER', 'LED',
  'NETMAP', 'NFQUEUE', 'RATEEST', 'SECMARK', 'SET', 'SNPT', 'SYNPROXY', 'TCPOPTSTRIP', 'TEE', 'TOS', 'TPROXY',
  'TTL', 'ULOG', 'MIRROR', 'IPV4OPTSSTRIP', 'NETLINK',
]);

// Maps for the hot lookups: keyed access to a plain object with many names goes megamorphic.
const MATCH_TABLES: ReadonlyMap<string, OptionTable> = new Map(Object.entries(MATCH_OPTIONS));
const TARGET_TABLES: ReadonlyMap<string, OptionTable> = new Map(Object.entries(TARGET_OPTIONS));

export function isKnownTarget(name: string): boolean {
  return TARGET_TABLES.has(name) || OPAQUE_TARGETS.has(name);
}

export function matchOptionTable(module: string): OptionTable | undefined {
  return MATCH_TABLES.get(module);
}

export function targetOptionTable(name: string): OptionTable | undefined {
  return TARGET_TABLES.get(name);
}

type OptionSpecs = ReadonlyMap<string, OptionSpec>;

// Each map entry names its canonical option, so a parsed option shares that string.
const specsOf = (tables: Readonly<Record<string, OptionTable>>): ReadonlyMap<string, OptionSpecs> =>
  new Map(Object.entries(tables).map(([module, table]) => [
    module,
    new Map(Object.entries(table).map(([name, spec]) => [name, { ...spec, canonical: spec.canonical ?? name }])),
  ]));

// The same tables as maps, for the parser's per-option lookups (a hot path on large files).
const MATCH_SPECS = specsOf(MATCH_OPTIONS);
const TARGET_SPECS = specsOf(TARGET_OPTIONS);

const KNOWN_MODULE_NAMES: ReadonlyMap<string, string> = new Map(
  [...Object.keys(MATCH_OPTIONS), ...OPAQUE_MATCHES].map((name) => [name, name]),
);

/** The one shared string for a known module's name (a rule's copy otherwise lives as long as the AST). */
export function internModuleName(name: string): string {
  return KNOWN_MODULE_NAMES.get(name) ?? name;
}

export function matchOptionSpecs(module: string): OptionSpecs | undefined {
  return MATCH_SPECS.get(module);
}

export function targetOptionSpecs(name: string): OptionSpecs | undefined {
  return TARGET_SPECS.get(name);
}

/** The spec of one option in a table (own names only). */
export function optionSpec(table: OptionTable | undefined, name: string): OptionSpec | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

export interface BuildContext {
  readonly family: Family;
  /** Protocol given with -p, when not negated. */
  readonly protocol?: string;
  /** Protocol given with `! -p`. */
  readonly negatedProtocol?: string;
}

/** An error about one option (or the whole module when `option` is absent). */
export interface OptionProblem {
  readonly option?: RawOption;
  readonly message: string;
  readonly hint?: string;
}

type Built<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: OptionProblem };

const built = <T>(value: T): Built<T> => ({ ok: true, value });

function problem(option: RawOption | undefined, message: string, hint?: string): Built<never> {
  return { ok: false, problem: { option, message, hint } };
}

function need<T>(read: Read<T>, option: RawOption): Built<T> {
  return read.ok ? read : problem(option, read.reason, read.hint);
}

const PORT_PROTOCOLS: Readonly<Record<string, string>> = { tcp: 'tcp', udp: 'udp', udplite: 'udplite', sctp: 'sctp', dccp: 'dccp' };

const CT_STATES: readonly ConntrackState[] = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'];
const STATE_STATES: readonly ConntrackState[] = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];
const CT_STATUSES = ['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'] as const;
const ADDR_TYPES: readonly AddrType[] = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
];
const TCP_FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH', 'ALL', 'NONE'] as const;

/** An option's first value ('' when it has none). */
function value0(option: RawOption): string {
  return option.values[0] ?? '';
}

function firstValue(options: readonly RawOption[], name: string): string | undefined {
  return first(options, name)?.values[0];
}

function first(options: readonly RawOption[], name: string): RawOption | undefined {
  // Indexed, not for-of: this runs for every option of every rule, and the iterator was a tenth of the parser's garbage.
  for (let k = 0; k < options.length; k++) if (options[k]!.name === name) return options[k];
  return undefined;
}

/** Typed interpretation of a match module's collected options. */
export function buildMatch(module: string, options: readonly RawOption[], span: Span, context: BuildContext): Built<Match> {
  switch (module) {
    case 'tcp': case 'udp': case 'udplite': case 'sctp': case 'dccp': {
      // nf_tables also loads `! -p tcp -m tcp …` (a rule that can never match); legacy refuses it.
      if (context.protocol !== PORT_PROTOCOLS[module] && context.negatedProtocol !== PORT_PROTOCOLS[module]) {
        return problem(undefined, `the ${module} match needs "-p ${module}"`, `add "-p ${module}" before "-m ${module}"`);
      }
      let sport; let dport;
      // The udp match keeps a reversed range (it then matches nothing); the others refuse it.
      const reversedOk = module === 'udp' || module === 'udplite';
      const s = first(options, '--sport');
      if (s) { const r = need(readPortMatch(value0(s), s.negated, reversedOk), s); if (!r.ok) return r; sport = r.value; }
      const d = first(options, '--dport');
      if (d) { const r = need(readPortMatch(value0(d), d.negated, reversedOk), d); if (!r.ok) return r; dport = r.value; }
      if (module === 'tcp') {
        let tcpFlags; let syn;
        const f = first(options, '--tcp-flags');
        if (f) {
          const mask = readEnumList(f.values[0] ?? '', TCP_FLAGS, 'TCP flag');
          const compare = readEnumList(f.values[1] ?? '', TCP_FLAGS, 'TCP flag');
          if (!mask.ok) return problem(f, mask.reason, mask.hint);
          if (!compare.ok) return problem(f, compare.reason, compare.hint);
          tcpFlags = { mask: mask.value, compare: compare.value, negated: f.negated };
        }
        const y = first(options, '--syn');
        if (y) syn = { negated: y.negated };
        return built({ module, options, span, kind: 'tcp', sport, dport, tcpFlags, syn });
      }
      if (module === 'udplite') return built({ module, options, span, kind: 'udp', sport, dport });
      const chunks = module === 'sctp' ? first(options, '--chunk-types') : undefined;
      if (chunks) {
        const [scope, list] = chunks.values;
        if (!['all', 'any', 'only'].includes(scope ?? '')) return problem(chunks, `invalid chunk match "${scope ?? ''}"`, 'expected all, any or only');
        const bad = (list ?? '').split(',').find((c) => !SCTP_CHUNKS.includes(c.split(':')[0]!.toUpperCase()));
        if (bad !== undefined) return problem(chunks, `unknown SCTP chunk "${bad}"`);
      }
      return built({ module, options, span, kind: module, sport, dport });
    }
    case 'icmp': case 'icmp6': {
      const v6 = module === 'icmp6';
      if (v6 !== (context.family === 'ipv6')) {
        return problem(undefined, `there is no ${module} match in ${context.family === 'ipv6' ? 'ip6tables' : 'iptables'}`, `use -m ${v6 ? 'icmp' : 'icmp6'}`);
      }
      if (context.protocol !== (v6 ? 'ipv6-icmp' : 'icmp')) {
        return problem(undefined, `the ${module} match needs "-p ${v6 ? 'ipv6-icmp' : 'icmp'}"`);
      }
      const t = first(options, v6 ? '--icmpv6-type' : '--icmp-type');
      if (!t) return built({ module, options, span, kind: module });
      const r = need(readIcmpType(value0(t), t.negated, v6), t);
      return r.ok ? built({ module, options, span, kind: module, icmpType: r.value }) : r;
    }
    case 'multiport': {
      if (!context.protocol || !['tcp', 'udp', 'udplite', 'sctp', 'dccp'].includes(context.protocol)) {
        return problem(undefined, 'multiport needs "-p tcp", "-p udp", "-p udplite", "-p sctp" or "-p dccp"');
      }
      const out: { sports?: import('./ast.ts').PortMatch; dports?: import('./ast.ts').PortMatch; ports?: import('./ast.ts').PortMatch } = {};
      for (const [name, key] of [['--sports', 'sports'], ['--dports', 'dports'], ['--ports', 'ports']] as const) {
        const o = first(options, name);
        if (!o) continue;
        const r = need(readPortList(value0(o), o.negated), o);
        if (!r.ok) return r;
        out[key] = r.value;
      }
      const given = [out.sports, out.dports, out.ports].filter(Boolean).length;
      if (given === 0) return problem(undefined, 'multiport needs one of --sports, --dports or --ports');
      if (given > 1) return problem(undefined, 'multiport takes only one of --sports, --dports or --ports');
      return built({ module, options, span, kind: 'multiport', ...out });
    }
    case 'conntrack': {
      if (options.length === 0) return problem(undefined, 'the conntrack match needs at least one option', 'e.g. --ctstate RELATED,ESTABLISHED');
      const m: Record<string, unknown> = {};
      for (const o of options) {
        const v = value0(o);
        switch (o.name) {
          case '--ctstate': {
            const r = readEnumList(v, CT_STATES, 'conntrack state');
            if (!r.ok) return problem(o, r.reason, r.hint);
            m.ctstate = { states: r.value, negated: o.negated };
            break;
          }
          case '--ctstatus': {
            const r = readEnumList(v, CT_STATUSES, 'conntrack status');
            if (!r.ok) return problem(o, r.reason, r.hint);
            m.ctstatus = { values: r.value, negated: o.negated };
            break;
          }
          case '--ctdir':
            if (v.toUpperCase() !== 'ORIGINAL' && v.toUpperCase() !== 'REPLY') return problem(o, `invalid --ctdir "${v}"`, 'expected ORIGINAL or REPLY');
            m.ctdir = v.toUpperCase();
            break;
          case '--ctproto': {
            const r = need(readProtocol(v, o.negated), o);
            if (!r.ok) return r;
            m.ctproto = r.value;
            break;
          }
          case '--ctorigsrc': case '--ctorigdst': case '--ctreplsrc': case '--ctrepldst': {
            const r = need(readAddress(v, context.family, o.negated), o);
            if (!r.ok) return r;
            m[o.name.slice(2)] = r.value;
            break;
          }
          case '--ctorigsrcport': case '--ctorigdstport': case '--ctreplsrcport': case '--ctrepldstport': {
            const r = need(readPortMatch(v, o.negated), o);
            if (!r.ok) return r;
            m[o.name.slice(2)] = r.value;
            break;
          }
          default:
            break;
        }
      }
      return built({ module, options, span, kind: 'conntrack', ...m } as Match);
    }
    case 'state': {
      const o = first(options, '--state');
      if (!o) return problem(undefined, 'the state match needs --state');
      const r = readEnumList(value0(o), STATE_STATES, 'state');
      if (!r.ok) return problem(o, r.reason, r.hint);
      return built({ module, options, span, kind: 'state', state: { states: r.value, negated: o.negated } });
    }
    case 'addrtype': {
      const read = (o: RawOption | undefined) => {
        if (!o) return built(undefined);
        const r = readEnumList(value0(o), ADDR_TYPES, 'address type');
        return r.ok ? built({ types: r.value, negated: o.negated }) : problem(o, r.reason, r.hint);
      };
      const src = read(first(options, '--src-type'));
      if (!src.ok) return src;
      const dst = read(first(options, '--dst-type'));
      if (!dst.ok) return dst;
      if (!src.value && !dst.value) return problem(undefined, 'the addrtype match needs --src-type or --dst-type');
      if (first(options, '--limit-iface-in') && first(options, '--limit-iface-out')) {
        return problem(first(options, '--limit-iface-out'), '--limit-iface-in and --limit-iface-out cannot be combined');
      }
      return built({
        module, options, span, kind: 'addrtype', srcType: src.value, dstType: dst.value,
        limitIfaceIn: !!first(options, '--limit-iface-in'), limitIfaceOut: !!first(options, '--limit-iface-out'),
      });
    }
    case 'iprange': {
      const read = (o: RawOption | undefined) => {
        if (!o) return built(undefined);
        if (value0(o).includes('/')) return problem(o, `invalid address range "${value0(o)}"`, 'iprange takes FROM-TO, not a prefix; for a prefix use -s/-d');
        const parts = value0(o).split('-');
        const from = readAddress(parts[0] ?? '', context.family, false);
        const to = readAddress(parts[1] ?? parts[0] ?? '', context.family, false);
        if (parts.length > 2 || !from.ok || !to.ok) return problem(o, `invalid address range "${value0(o)}"`, 'expected FROM-TO, e.g. 10.0.0.1-10.0.0.9');
        return built({ from: from.value.address, to: to.value.address, negated: o.negated });
      };
      const src = read(first(options, '--src-range'));
      if (!src.ok) return src;
      const dst = read(first(options, '--dst-range'));
      if (!dst.ok) return dst;
      if (!src.value && !dst.value) return problem(undefined, 'the iprange match needs --src-range or --dst-range');
      return built({ module, options, span, kind: 'iprange', srcRange: src.value, dstRange: dst.value });
    }
    case 'comment': {
      const o = first(options, '--comment');
      if (!o) return problem(undefined, 'the comment match needs --comment');
      return built({ module, options, span, kind: 'comment', comment: value0(o) });
    }
    case 'mark': case 'connmark': {
      const o = first(options, '--mark');
      if (!o) return problem(undefined, `the ${module} match needs --mark`);
      const r = readMarkValue(value0(o));
      if (!r.ok) return problem(o, r.reason, r.hint);
      return built({ module, options, span, kind: module, mark: { ...r.value, negated: o.negated } });
    }
    case 'set': {
      const o = first(options, '--match-set');
      if (!o) return problem(undefined, 'the set match needs --match-set NAME FLAGS');
      const directions = (o.values[1] ?? '').split(',');
      if (!directions.every((d) => d === 'src' || d === 'dst') || directions.length > 6) {
        return problem(o, `invalid set flags "${o.values[1] ?? ''}"`, 'expected src, dst or a comma-separated list of them');
      }
      return built({ module, options, span, kind: 'set', setName: value0(o), directions: directions as ('src' | 'dst')[], negated: o.negated });
    }
    case 'physdev': {
      if (options.length === 0) return problem(undefined, 'the physdev match needs at least one option');
      const m: Record<string, unknown> = {};
      for (const o of options) {
        if (o.name === '--physdev-in' || o.name === '--physdev-out') {
          const r = need(readInterface(value0(o), o.negated), o);
          if (!r.ok) return r;
          m[o.name === '--physdev-in' ? 'physdevIn' : 'physdevOut'] = r.value;
        } else if (o.name === '--physdev-is-in') m.isIn = { negated: o.negated };
        else if (o.name === '--physdev-is-out') m.isOut = { negated: o.negated };
        else if (o.name === '--physdev-is-bridged') m.isBridged = { negated: o.negated };
      }
      return built({ module, options, span, kind: 'physdev', ...m } as Match);
    }
    case 'mac': {
      const o = first(options, '--mac-source');
      if (!o) return problem(undefined, 'the mac match needs --mac-source');
      if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(value0(o))) return problem(o, `invalid MAC address "${value0(o)}"`);
      return built({ module, options, span, kind: 'mac', macSource: { address: value0(o).toUpperCase(), negated: o.negated } });
    }
    case 'pkttype': {
      const o = first(options, '--pkt-type');
      if (!o) return problem(undefined, 'the pkttype match needs --pkt-type');
      const type = value0(o).toLowerCase();
      if (!['unicast', 'broadcast', 'multicast', 'host', 'otherhost'].includes(type)) {
        return problem(o, `invalid packet type "${value0(o)}"`, 'expected unicast, broadcast or multicast');
      }
      return built({ module, options, span, kind: 'pkttype', pktType: { type, negated: o.negated } });
    }
    default: {
      const invalid = checkOpaqueMatch(module, options);
      if (invalid) return invalid;
      return built({ module, options, span, kind: OPAQUE_MATCHES.has(module) ? 'opaque' : 'unknown' });
    }
  }
}

const RATE = /^\d+(\/(s|sec|second|m|min|minute|h|hour|d|day))?$/;

/** The userspace checks iptables makes on modules whose outcome the model leaves open. */
function checkOpaqueMatch(module: string, options: readonly RawOption[]): Built<never> | undefined {
  const has = (name: string) => first(options, name);
  const value = (name: string) => first(options, name)?.values[0];
  switch (module) {
    case 'limit': {
      const rate = value('--limit');
      if (rate !== undefined && !RATE.test(rate)) return problem(has('--limit'), `invalid rate "${rate}"`, 'expected N/second, N/minute, N/hour or N/day');
      const burst = value('--limit-burst');
      if (burst !== undefined && !/^\d+$/.test(burst)) return problem(has('--limit-burst'), `invalid burst "${burst}"`);
      return undefined;
    }
    case 'recent': {
      const commands = ['--set', '--rcheck', '--update', '--remove'].filter((c) => has(c));
      if (commands.length === 0) return problem(undefined, 'the recent match needs one of --set, --rcheck, --update or --remove');
      if (commands.length > 1) return problem(has(commands[1]!), `the recent match takes only one of --set, --rcheck, --update, --remove`);
      return undefined;
    }
    case 'statistic': {
      const mode = value('--mode');
      if (mode !== 'random' && mode !== 'nth') return problem(has('--mode'), `the statistic match needs --mode random or --mode nth`);
      if (mode === 'random') {
        const p = value('--probability');
        if (p === undefined || !/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(p)) return problem(has('--probability'), '--mode random needs --probability between 0 and 1');
        if (has('--every') || has('--packet')) return problem(has('--every') ?? has('--packet'), '--every and --packet belong to --mode nth');
      } else {
        const every = value('--every');
        if (every === undefined || !/^\d+$/.test(every) || Number(every) === 0) return problem(has('--every'), '--mode nth needs --every N');
        const packet = value('--packet');
        if (packet !== undefined && (!/^\d+$/.test(packet) || Number(packet) >= Number(every))) return problem(has('--packet'), '--packet must be smaller than --every');
        if (has('--probability')) return problem(has('--probability'), '--probability belongs to --mode random');
      }
      return undefined;
    }
    case 'owner':
      if (options.length === 0) return problem(undefined, 'the owner match needs an option', 'e.g. --uid-owner, --gid-owner or --socket-exists');
      return undefined;
    case 'string': {
      const algo = value('--algo');
      if (algo !== 'bm' && algo !== 'kmp') return problem(has('--algo'), 'the string match needs --algo bm or --algo kmp');
      if (!has('--string') && !has('--hex-string')) return problem(undefined, 'the string match needs --string or --hex-string');
      const hex = value('--hex-string');
      if (hex !== undefined) {
        const parts = hex.split('|');
        if (parts.length % 2 === 0 || parts.some((part, k) => k % 2 === 1 && !/^([0-9a-fA-F]{2}\s*)*$/.test(part.trim()))) {
          return problem(has('--hex-string'), `invalid hex string "${hex}"`, 'hex bytes go between pipes: "|0d0a|"');
        }
      }
      return undefined;
    }
    case 'u32': {
      const expr = value('--u32');
      if (expr === undefined || !/^\s*[0-9xa-fA-F]/.test(expr) || !/=/.test(expr) || /&&|\|\|/.test(expr)) return problem(has('--u32'), `invalid u32 expression "${expr ?? ''}"`);
      return undefined;
    }
    default:
      return undefined;
  }
}

function markOperation(options: readonly RawOption[]): Built<MarkOperation | undefined> {
  for (const o of options) {
    const v = o.values[0] ?? '';
    switch (o.name) {
      case '--set-xmark': case '--set-mark': {
        const r = readMarkValue(v);
        if (!r.ok) return problem(o, r.reason);
        // --set-mark v/m zeroes the masked bits then ORs v: xset with mask m and value v.
        return built({ op: 'xset', value: r.value.value, mask: r.value.mask });
      }
      case '--and-mark': {
        const r = readU32(v);
        if (!r.ok) return problem(o, r.reason);
        return built({ op: 'xset', value: 0, mask: (~r.value) >>> 0 });
      }
      case '--or-mark': {
        const r = readU32(v);
        if (!r.ok) return problem(o, r.reason);
        return built({ op: 'xset', value: r.value, mask: r.value });
      }
      case '--xor-mark': {
        const r = readU32(v);
        if (!r.ok) return problem(o, r.reason);
        return built({ op: 'xset', value: r.value, mask: 0 });
      }
      default:
        break;
    }
  }
  return built(undefined);
}

/** Typed interpretation of a target and its options. `chainExists` tells a chain jump from a target. */
export function buildTarget(name: string, options: readonly RawOption[], span: Span, context: BuildContext, goto: boolean): Built<Target> {
  if (goto) return built({ options, span, kind: 'chain', chain: name, goto: true });
  switch (name) {
    case 'ACCEPT': case 'DROP': case 'RETURN': case 'QUEUE':
      return built({ options, span, kind: 'verdict', name });
    case 'REJECT': {
      const rejectWith = firstValue(options, '--reject-with') ?? (context.family === 'ipv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable');
      const allowed = context.family === 'ipv4'
        ? ['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset', 'net-unreach', 'host-unreach', 'port-unreach', 'proto-unreach', 'net-prohib', 'host-prohib', 'admin-prohib', 'tcp-rst']
        : ['icmp6-no-route', 'no-route', 'icmp6-adm-prohibited', 'adm-prohibited', 'icmp6-addr-unreachable', 'addr-unreach', 'icmp6-port-unreachable', 'port-unreach', 'tcp-reset', 'icmp6-policy-fail', 'policy-fail', 'icmp6-reject-route', 'reject-route'];
      if (!allowed.includes(rejectWith)) {
        return problem(first(options, '--reject-with'), `invalid --reject-with "${rejectWith}"`, `expected one of ${allowed.slice(0, 8).join(', ')} …`);
      }
      if (rejectWith === 'tcp-reset' || rejectWith === 'tcp-rst') {
        if (context.protocol !== 'tcp') return problem(first(options, '--reject-with'), '--reject-with tcp-reset needs "-p tcp"');
      }
      return built({ options, span, kind: 'REJECT', rejectWith: canonicalReject(rejectWith, context.family) });
    }
    case 'LOG': {
      const level = firstValue(options, '--log-level');
      const levels = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug', 'panic', 'err', 'warn'];
      if (level !== undefined && !/^[0-7]$/.test(level) && !levels.includes(level.toLowerCase())) {
        return problem(first(options, '--log-level'), `invalid log level "${level}"`, 'expected 0-7 or emerg, alert, crit, error, warning, notice, info, debug');
      }
      const prefix = firstValue(options, '--log-prefix');
      return built({ options, span, kind: 'LOG', prefix, level });
    }
    case 'NFLOG': {
      const group = firstValue(options, '--nflog-group');
      if (group !== undefined && (!/^\d+$/.test(group) || Number(group) > 65535)) return problem(first(options, '--nflog-group'), `invalid NFLOG group "${group}"`, 'groups go from 0 to 65535');
      return built({ options, span, kind: 'NFLOG', group: group === undefined ? undefined : Number(group), prefix: firstValue(options, '--nflog-prefix') });
    }
    case 'DNAT': case 'SNAT': {
      const optionName = name === 'DNAT' ? '--to-destination' : '--to-source';
      const ranges = options.filter((o) => o.name === optionName);
      if (ranges.length === 0) return problem(undefined, `${name} needs ${optionName}`);
      const to: NatRange[] = [];
      for (const o of ranges) {
        const r = readNatRange(o.values[0] ?? '', context.family);
        if (!r.ok) return problem(o, r.reason, r.hint);
        if (r.value.portFrom !== undefined && !['tcp', 'udp', 'sctp', 'dccp', 'udplite'].includes(context.protocol ?? '')) {
          return problem(o, `${name} with a port needs "-p tcp", "-p udp", "-p sctp" or "-p dccp"`);
        }
        to.push(r.value);
      }
      return built({ options, span, kind: name, to });
    }
    case 'MASQUERADE': case 'REDIRECT': {
      const ports = first(options, '--to-ports');
      if (!ports) return built({ options, span, kind: name });
      if (!['tcp', 'udp', 'sctp', 'dccp', 'udplite'].includes(context.protocol ?? '')) {
        return problem(ports, `--to-ports needs "-p tcp", "-p udp", "-p sctp" or "-p dccp"`);
      }
      const r = readPortRange((ports.values[0] ?? '').replace('-', ':'));
      if (!r.ok) return problem(ports, r.reason, r.hint);
      return built({ options, span, kind: name, toPorts: r.value });
    }
    case 'MARK': {
      const operations = options.filter((o) => ['--set-mark', '--set-xmark', '--and-mark', '--or-mark', '--xor-mark'].includes(o.name));
      if (operations.length > 1) return problem(operations[1], 'MARK takes a single operation', 'use one of --set-mark, --set-xmark, --and-mark, --or-mark, --xor-mark');
      const operation = markOperation(options);
      if (!operation.ok) return operation;
      if (!operation.value) return problem(undefined, 'MARK needs --set-mark, --set-xmark, --and-mark, --or-mark or --xor-mark');
      return built({ options, span, kind: 'MARK', operation: operation.value });
    }
    case 'CONNMARK': {
      if (first(options, '--save-mark')) return built({ options, span, kind: 'CONNMARK', operation: { op: 'save' } });
      if (first(options, '--restore-mark')) return built({ options, span, kind: 'CONNMARK', operation: { op: 'restore' } });
      const operation = markOperation(options);
      if (!operation.ok) return operation;
      if (!operation.value) return problem(undefined, 'CONNMARK needs --set-mark, --set-xmark, --save-mark or --restore-mark');
      return built({ options, span, kind: 'CONNMARK', operation: operation.value });
    }
    case 'CT': {
      const helper = firstValue(options, '--helper');
      if (helper !== undefined && !CT_HELPERS.includes(helper)) {
        return problem(first(options, '--helper'), `unknown conntrack helper "${helper}"`, `the kernel has ${CT_HELPERS.join(', ')}`);
      }
      return built({ options, span, kind: 'CT', notrack: !!first(options, '--notrack') });
    }
    case 'NOTRACK': case 'TRACE':
      return built({ options, span, kind: name });
    case 'TCPMSS':
      if (!first(options, '--set-mss') && !first(options, '--clamp-mss-to-pmtu')) return problem(undefined, 'TCPMSS needs --set-mss or --clamp-mss-to-pmtu');
      return built({ options, span, kind: 'TCPMSS' });
    case 'CHECKSUM':
      if (!first(options, '--checksum-fill')) return problem(undefined, 'CHECKSUM needs --checksum-fill');
      return built({ options, span, kind: 'CHECKSUM' });
    default:
      if (isKnownTarget(name)) return built({ options, span, kind: 'other', name, known: true });
      return built({ options, span, kind: 'chain', chain: name, goto: false });
  }
}

/** Conntrack helpers the kernel registers (nf_conntrack_*). */
const CT_HELPERS = ['amanda', 'ftp', 'tftp', 'irc', 'sip', 'RAS', 'Q.931', 'h245', 'pptp', 'netbios-ns', 'snmp', 'sane', 'snmp_trap'];

const SCTP_CHUNKS = [
  'DATA', 'INIT', 'INIT_ACK', 'SACK', 'HEARTBEAT', 'HEARTBEAT_ACK', 'ABORT', 'SHUTDOWN', 'SHUTDOWN_ACK', 'ERROR',
  'COOKIE_ECHO', 'COOKIE_ACK', 'ECN_ECNE', 'ECN_CWR', 'SHUTDOWN_COMPLETE', 'ASCONF', 'ASCONF_ACK', 'FORWARD_TSN', 'ALL', 'NONE',
];

function canonicalReject(value: string, family: Family): string {
  const aliases: Record<string, string> = family === 'ipv4'
    ? { 'net-unreach': 'icmp-net-unreachable', 'host-unreach': 'icmp-host-unreachable', 'port-unreach': 'icmp-port-unreachable', 'proto-unreach': 'icmp-proto-unreachable', 'net-prohib': 'icmp-net-prohibited', 'host-prohib': 'icmp-host-prohibited', 'admin-prohib': 'icmp-admin-prohibited', 'tcp-rst': 'tcp-reset' }
    : { 'no-route': 'icmp6-no-route', 'adm-prohibited': 'icmp6-adm-prohibited', 'addr-unreach': 'icmp6-addr-unreachable', 'port-unreach': 'icmp6-port-unreachable', 'policy-fail': 'icmp6-policy-fail', 'reject-route': 'icmp6-reject-route' };
  return aliases[value] ?? value;
}

export { readPortRange, fail };
