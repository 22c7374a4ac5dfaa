// The AST of an iptables-save / ip6tables-save stream.
//
// Everything downstream (model, simulator, rules, reporters) works from these
// types and never re-reads the text. Nodes are plain readonly data so they can
// be shared, cached and compared structurally.

export type Family = 'ipv4' | 'ipv6';

/** Where a node came from: 1-based line and column, end column exclusive. */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
}

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';
export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Built-in chains each table has, in the order iptables-save prints them. */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export interface Counters {
  readonly packets: number;
  readonly bytes: number;
}

/** An address with prefix length, as iptables normalises it (`10.0.0.0/8`, `fe80::/10`). */
export interface AddressMatch {
  /** Canonical text of the network address (host bits cleared, as the kernel stores it). */
  readonly address: string;
  readonly prefixLength: number;
  readonly negated: boolean;
  /**
   * A dotted mask that is not a prefix (`10.0.0.0/255.0.255.0`) is legal in iptables;
   * it is kept here and `prefixLength` is then -1.
   */
  readonly mask?: string;
}

/** `-i eth+`: name without the `+`, wildcard true. */
export interface InterfaceMatch {
  readonly name: string;
  readonly wildcard: boolean;
  readonly negated: boolean;
}

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** `--dport 80`, `--dport 1024:65535`, `! --sport :1023`. */
export interface PortMatch {
  readonly ranges: readonly PortRange[];
  readonly negated: boolean;
}

export interface ProtocolMatch {
  /** Lower-case name as iptables-save prints it (`tcp`, `udp`, `icmp`, `ipv6-icmp`, `all`, or a number). */
  readonly name: string;
  /** IANA protocol number; 0 for `all`. */
  readonly number: number;
  readonly negated: boolean;
}

/** One option exactly as written, for printing and for modules kept opaque. */
export interface RawOption {
  /** Long option name as written, with dashes (`--dport`). */
  readonly name: string;
  readonly values: readonly string[];
  readonly negated: boolean;
  readonly span: Span;
}

interface MatchBase {
  /** Module name as given to `-m` (or implied by `-p`). */
  readonly module: string;
  readonly options: readonly RawOption[];
  readonly span: Span;
}

export interface FlagSetMatch {
  readonly values: readonly string[];
  readonly negated: boolean;
}

export interface TcpFlagsMatch {
  readonly mask: readonly string[];
  readonly compare: readonly string[];
  readonly negated: boolean;
}

export type ConntrackState = 'INVALID' | 'NEW' | 'ESTABLISHED' | 'RELATED' | 'UNTRACKED' | 'SNAT' | 'DNAT';

export interface StateSetMatch {
  readonly states: readonly ConntrackState[];
  readonly negated: boolean;
}

export interface IcmpTypeMatch {
  /** -1 for `any`. */
  readonly type: number;
  /** Undefined: any code. */
  readonly code?: number;
  readonly negated: boolean;
}

export interface MarkValueMatch {
  readonly value: number;
  readonly mask: number;
  readonly negated: boolean;
}

export interface IpRange {
  readonly from: string;
  readonly to: string;
  readonly negated: boolean;
}

export type AddrType =
  | 'UNSPEC' | 'UNICAST' | 'LOCAL' | 'BROADCAST' | 'ANYCAST' | 'MULTICAST'
  | 'BLACKHOLE' | 'UNREACHABLE' | 'PROHIBIT' | 'THROW' | 'NAT' | 'XRESOLVE';

export interface AddrTypeSetMatch {
  readonly types: readonly AddrType[];
  readonly negated: boolean;
}

export type Match =
  | (MatchBase & { readonly kind: 'tcp'; readonly sport?: PortMatch; readonly dport?: PortMatch; readonly tcpFlags?: TcpFlagsMatch; readonly syn?: { readonly negated: boolean } })
  | (MatchBase & { readonly kind: 'udp'; readonly sport?: PortMatch; readonly dport?: PortMatch })
  | (MatchBase & { readonly kind: 'sctp'; readonly sport?: PortMatch; readonly dport?: PortMatch })
  | (MatchBase & { readonly kind: 'dccp'; readonly sport?: PortMatch; readonly dport?: PortMatch })
  | (MatchBase & { readonly kind: 'icmp'; readonly icmpType?: IcmpTypeMatch })
  | (MatchBase & { readonly kind: 'icmp6'; readonly icmpType?: IcmpTypeMatch })
  | (MatchBase & { readonly kind: 'multiport'; readonly sports?: PortMatch; readonly dports?: PortMatch; readonly ports?: PortMatch })
  | (MatchBase & {
      readonly kind: 'conntrack';
      readonly ctstate?: StateSetMatch;
      readonly ctstatus?: FlagSetMatch;
      readonly ctdir?: 'ORIGINAL' | 'REPLY';
      readonly ctproto?: ProtocolMatch;
      readonly ctorigsrc?: AddressMatch;
      readonly ctorigdst?: AddressMatch;
      readonly ctreplsrc?: AddressMatch;
      readonly ctrepldst?: AddressMatch;
      readonly ctorigsrcport?: PortMatch;
      readonly ctorigdstport?: PortMatch;
      readonly ctreplsrcport?: PortMatch;
      readonly ctrepldstport?: PortMatch;
    })
  | (MatchBase & { readonly kind: 'state'; readonly state?: StateSetMatch })
  | (MatchBase & {
      readonly kind: 'addrtype';
      readonly srcType?: AddrTypeSetMatch;
      readonly dstType?: AddrTypeSetMatch;
      readonly limitIfaceIn: boolean;
      readonly limitIfaceOut: boolean;
    })
  | (MatchBase & { readonly kind: 'iprange'; readonly srcRange?: IpRange; readonly dstRange?: IpRange })
  | (MatchBase & { readonly kind: 'comment'; readonly comment: string })
  | (MatchBase & { readonly kind: 'mark'; readonly mark?: MarkValueMatch })
  | (MatchBase & { readonly kind: 'connmark'; readonly mark?: MarkValueMatch })
  | (MatchBase & { readonly kind: 'set'; readonly setName: string; readonly directions: readonly ('src' | 'dst')[]; readonly negated: boolean })
  | (MatchBase & {
      readonly kind: 'physdev';
      readonly physdevIn?: InterfaceMatch;
      readonly physdevOut?: InterfaceMatch;
      readonly isIn?: { readonly negated: boolean };
      readonly isOut?: { readonly negated: boolean };
      readonly isBridged?: { readonly negated: boolean };
    })
  | (MatchBase & { readonly kind: 'mac'; readonly macSource?: { readonly address: string; readonly negated: boolean } })
  | (MatchBase & { readonly kind: 'pkttype'; readonly pktType?: { readonly type: string; readonly negated: boolean } })
  /** Modules whose outcome depends on state the dump does not hold: kept as options. */
  | (MatchBase & { readonly kind: 'opaque' })
  /** A module dockfw-lint does not know: kept verbatim, never an error. */
  | (MatchBase & { readonly kind: 'unknown' });

export type MatchKind = Match['kind'];

/** `--to-destination 172.17.0.2:80`, `[fd00::2]:80`, `10.0.0.1-10.0.0.9:1000-2000`. */
export interface NatRange {
  readonly addressFrom?: string;
  readonly addressTo?: string;
  readonly portFrom?: number;
  readonly portTo?: number;
}

interface TargetBase {
  readonly options: readonly RawOption[];
  readonly span: Span;
}

export type VerdictName = 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE';

export type Target =
  | (TargetBase & { readonly kind: 'verdict'; readonly name: VerdictName })
  | (TargetBase & { readonly kind: 'REJECT'; readonly rejectWith: string })
  /** `-j CHAIN` (jump) or `-g CHAIN` (goto) to a user chain. */
  | (TargetBase & { readonly kind: 'chain'; readonly chain: string; readonly goto: boolean })
  | (TargetBase & { readonly kind: 'LOG'; readonly prefix?: string; readonly level?: string })
  | (TargetBase & { readonly kind: 'NFLOG'; readonly group?: number; readonly prefix?: string })
  | (TargetBase & { readonly kind: 'DNAT'; readonly to: readonly NatRange[] })
  | (TargetBase & { readonly kind: 'SNAT'; readonly to: readonly NatRange[] })
  | (TargetBase & { readonly kind: 'MASQUERADE'; readonly toPorts?: PortRange })
  | (TargetBase & { readonly kind: 'REDIRECT'; readonly toPorts?: PortRange })
  | (TargetBase & { readonly kind: 'MARK'; readonly operation: MarkOperation })
  | (TargetBase & { readonly kind: 'CONNMARK'; readonly operation: MarkOperation | { readonly op: 'save' | 'restore' } })
  | (TargetBase & { readonly kind: 'CT'; readonly notrack: boolean })
  | (TargetBase & { readonly kind: 'NOTRACK' })
  | (TargetBase & { readonly kind: 'TRACE' })
  | (TargetBase & { readonly kind: 'TCPMSS' })
  | (TargetBase & { readonly kind: 'CHECKSUM' })
  /** Known to the kernel but not modelled, or unknown: kept verbatim. Never terminates in the model. */
  | (TargetBase & { readonly kind: 'other'; readonly name: string; readonly known: boolean });

export type TargetKind = Target['kind'];

/** `--set-xmark value/mask`: new = (old & ~mask) ^ value. set-mark, and-mark, or-mark, xor-mark reduce to it. */
export interface MarkOperation {
  readonly op: 'xset';
  readonly value: number;
  readonly mask: number;
}

export interface Rule {
  readonly span: Span;
  readonly table: TableName;
  readonly chain: string;
  readonly counters?: Counters;
  readonly protocol?: ProtocolMatch;
  readonly source?: AddressMatch;
  readonly destination?: AddressMatch;
  readonly inInterface?: InterfaceMatch;
  readonly outInterface?: InterfaceMatch;
  /** `-f` / `! -f` (IPv4 only). */
  readonly fragment?: { readonly negated: boolean };
  readonly matches: readonly Match[];
  /** Undefined: a rule with no target only counts packets. */
  readonly target?: Target;
  /**
   * The rule in canonical iptables-save form (without `-A CHAIN` or counters); stable for fingerprints.
   * Rules from parse() print it on first read (an own enumerable accessor, see rule-node.ts).
   */
  readonly text: string;
}

export interface Chain {
  readonly name: string;
  readonly builtin: boolean;
  /** Only built-in chains have a policy. */
  readonly policy?: 'ACCEPT' | 'DROP';
  readonly counters?: Counters;
  /** Where it was declared (the `:NAME` line or the `-N` command); absent for implied built-ins. */
  readonly span?: Span;
  readonly rules: readonly Rule[];
}

export interface Table {
  readonly name: TableName;
  readonly span: Span;
  /** In declaration order (built-ins first as iptables-save prints them). */
  readonly chains: readonly Chain[];
}

/** A `#` line: kept for suppressions and for the legacy-tables warning. */
export interface CommentLine {
  readonly text: string;
  readonly span: Span;
}

export interface Ruleset {
  readonly family: Family;
  /** How the family was decided, for the user's benefit. */
  readonly familySource: 'header' | 'addresses' | 'file-name' | 'option' | 'default';
  readonly file: string;
  /** First and last line of this ruleset in the file (several may share a file). */
  readonly startLine: number;
  readonly endLine: number;
  readonly tables: readonly Table[];
  readonly comments: readonly CommentLine[];
  /** `iptables-save` of nf_tables prints this when legacy tables also exist. */
  readonly legacyTablesWarning: boolean;
}

/** A user-facing error: where, what was found, what was expected, and a hint. */
export interface ParseError {
  readonly span: Span;
  readonly message: string;
  readonly found?: string;
  readonly expected?: string;
  readonly hint?: string;
}

export interface ParseResult {
  readonly rulesets: readonly Ruleset[];
  readonly errors: readonly ParseError[];
}

export interface ParseOptions {
  /** Name reported in spans; `<stdin>` for standard input. */
  readonly file: string;
  /** Used when neither the header nor the addresses nor the file name tell. */
  readonly family?: Family;
}
