// Differential test: does parse() accept exactly the files iptables-restore accepts?
//
// Every case is a small complete iptables-save file with one interesting line. The kernel's
// answer comes from a real `iptables-nft-restore` (or ip6tables) into a scratch network
// namespace, not from `--test`: `--test` only runs the user-space parser, so it accepts a
// jump to a chain that does not exist, `-A` to an undeclared chain, DNAT in the filter
// table or `-m owner` in INPUT — files that no host could ever have loaded and iptables-save
// printed. A real load lets the kernel check hooks, tables and chain references too.
//
// The cases are an explicit list (no randomness), so a disagreement names the same case on
// every run. Set DFW_RESTORE_DUMP=/some/file.json to write every case with both answers.
import { lintText } from '../../src/engine/engine.ts';
import { builtinRules } from '../../rules/index.ts';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../../grammar/index.ts';
import type { Family, TableName } from '../../grammar/index.ts';
import { legacyAvailable, netnsAvailable, restoreLoad, withScratchNamespace } from '../../scripts/lib/netns.mjs';
import type { Namespace } from '../../scripts/lib/netns.mjs';

interface RestoreCase {
  /** Stable and unique: `group/label`. */
  readonly id: string;
  readonly family: Family;
  readonly text: string;
  /** The line under test, for the failure report. */
  readonly line: string;
}

const BUILTIN: Readonly<Record<TableName, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/**
 * Files only iptables-legacy loads here (nft_queue is not built into this kernel; legacy
 * allows a chain name starting with `-`). Where legacy is unavailable they are left out
 * rather than judged by half the kernel.
 */
const LEGACY_ONLY = new Set(['verdict/QUEUE', 'structure/chain-name-dash-start']);

/**
 * Deliberate, documented differences (README "Agreement with the kernel"). Each is listed
 * by case id; any other disagreement fails the test.
 */
const HOOK_CHECK = 'the kernel refuses this module or target in this table/hook when the rule is loaded; dockfw-lint parses it and IPT206 target-wrong-table reports it as an error (asserted below)';
const DOCUMENTED: Readonly<Record<string, string>> = {
  'protocol/old-negation': 'old "-p ! tcp" form: accepted for dumps of iptables <= 1.4 (iptables 1.8 refuses it)',
  'address-s/old-negation': 'old "-s ! x" form: accepted for dumps of iptables <= 1.4',
  'address-s/v6-old-negation': 'old "-s ! x" form: accepted for dumps of iptables <= 1.4',
  'address-d/old-negation': 'old "-d ! x" form: accepted for dumps of iptables <= 1.4',
  'address-d/v6-old-negation': 'old "-d ! x" form: accepted for dumps of iptables <= 1.4',
  'interface-in/old-negation': 'old "-i ! x" form: accepted for dumps of iptables <= 1.4',
  'structure/crlf': 'CRLF line endings: accepted (files edited on Windows), the kernel tool refuses them',
  'udp/dport-too-big': 'the kernel silently truncates port 70000 to 4464; dockfw-lint refuses the value',
  'udp/sport-too-big': 'the kernel silently truncates port 70000 to 4464; dockfw-lint refuses the value',
  'conntrack/ctorigdstport-too-big': 'the kernel silently truncates port 70000 to 4464; dockfw-lint refuses the value',
  'comment/unterminated': 'the kernel takes the rest of the line as the comment; dockfw-lint refuses the unterminated quote',
  'addrtype/limit-iface-in-in-OUTPUT': HOOK_CHECK,
  'physdev/out-in-OUTPUT': HOOK_CHECK,
  'mac/in-OUTPUT': HOOK_CHECK,
  'owner/in-INPUT': HOOK_CHECK,
  'owner/in-FORWARD': HOOK_CHECK,
  'owner/in-nat-PREROUTING': HOOK_CHECK,
  'reject/in-nat': HOOK_CHECK,
  'reject/in-mangle-INPUT': HOOK_CHECK,
  'reject/in-mangle-PREROUTING': HOOK_CHECK,
  'reject/in-raw': HOOK_CHECK,
  'dnat/postrouting': HOOK_CHECK,
  'dnat/input': HOOK_CHECK,
  'dnat/in-filter': HOOK_CHECK,
  'dnat/in-mangle': HOOK_CHECK,
  'snat/prerouting': HOOK_CHECK,
  'snat/output': HOOK_CHECK,
  'snat/in-filter': HOOK_CHECK,
  'masquerade/prerouting': HOOK_CHECK,
  'masquerade/output': HOOK_CHECK,
  'masquerade/in-filter': HOOK_CHECK,
  'redirect/postrouting': HOOK_CHECK,
  'redirect/in-filter': HOOK_CHECK,
  'ct/in-filter': HOOK_CHECK,
  'ct/in-mangle': HOOK_CHECK,
  'notrack/in-filter': HOOK_CHECK,
  'tcpmss/without-tcp': HOOK_CHECK,
  'tcpmss/clamp-in-PREROUTING': HOOK_CHECK,
  'checksum/in-filter': HOOK_CHECK,
};

/** Every case's table also declares this user chain, so jumps to it are legal. */
const USER_CHAIN = 'EXISTING';
/** Never declared anywhere. */
const MISSING_CHAIN = 'NOT-DECLARED';
/** Created with ipset in the scratch namespace before the cases run (a dump refers to sets the host has). */
const IPSET_V4 = 'dfwset4';
const IPSET_V6 = 'dfwset6';

function tableFile(table: TableName, lines: readonly string[]): string {
  const declarations = [...BUILTIN[table].map((chain) => `:${chain} ACCEPT [0:0]`), `:${USER_CHAIN} - [0:0]`];
  return [`*${table}`, ...declarations, ...lines, 'COMMIT', ''].join('\n');
}

function buildCases(): RestoreCase[] {
  const cases: RestoreCase[] = [];
  const ids = new Set<string>();
  const add = (id: string, family: Family, text: string, line: string): void => {
    if (ids.has(id)) throw new Error(`duplicate case id ${id}`);
    ids.add(id);
    // Every case carries the header a real dump has: it, not the addresses, says the family.
    cases.push({ id, family, text: `# Generated by ${family === 'ipv6' ? 'ip6tables' : 'iptables'}-save v1.8.9 (nf_tables)\n${text}`, line });
  };
  /** One rule in a file of its table; `rule` starts with `-A CHAIN`. */
  const rule = (id: string, rule: string, { table = 'filter', family = 'ipv4' }: { table?: TableName; family?: Family } = {}): void => {
    add(id, family, tableFile(table, [rule]), rule);
  };
  const v6 = { family: 'ipv6' } as const;

  // --- protocol -------------------------------------------------------------------------
  for (const [label, spec] of [
    ['tcp', '-p tcp'], ['udp', '-p udp'], ['icmp', '-p icmp'], ['all', '-p all'], ['sctp', '-p sctp'],
    ['number', '-p 6'], ['number-47', '-p 47'], ['upper', '-p TCP'], ['negated', '! -p tcp'],
    ['old-negation', '-p ! tcp'], ['unknown-name', '-p nosuchproto'], ['number-256', '-p 256'], ['missing-value', '-p'],
  ] as const) {
    rule(`protocol/${label}`, `-A INPUT ${spec} -j ACCEPT`);
  }
  rule('protocol/ipv6-icmp', '-A INPUT -p ipv6-icmp -j ACCEPT', v6);
  rule('protocol/icmpv6', '-A INPUT -p icmpv6 -j ACCEPT', v6);
  rule('protocol/v6-tcp', '-A INPUT -p tcp -j ACCEPT', v6);

  // --- addresses ------------------------------------------------------------------------
  const v4Addresses = [
    ['host', '10.1.2.3'], ['host-32', '10.1.2.3/32'], ['prefix', '10.0.0.0/8'], ['prefix-host-bits', '10.1.2.3/8'],
    ['zero', '0.0.0.0/0'], ['dotted-mask', '10.0.0.0/255.0.0.0'], ['dotted-mask-noncontiguous', '10.0.0.0/255.0.255.0'],
    ['list', '10.0.0.1,10.0.0.2'], ['bad-octet', '300.1.1.1'], ['bad-prefix', '10.0.0.0/33'], ['negative-prefix', '10.0.0.0/-1'],
    ['bad-mask', '10.0.0.0/255.0.0.300'], ['ipv6-in-ipv4', 'fd00::1'], ['garbage', '10.0.0.0/8/8'], ['empty-list-item', '10.0.0.1,'],
  ] as const;
  for (const flag of ['-s', '-d'] as const) {
    const long = flag === '-s' ? '--source' : '--destination';
    for (const [label, address] of v4Addresses) rule(`address${flag}/${label}`, `-A INPUT ${flag} ${address} -j ACCEPT`);
    rule(`address${flag}/negated`, `-A INPUT ! ${flag} 10.0.0.0/8 -j ACCEPT`);
    rule(`address${flag}/old-negation`, `-A INPUT ${flag} ! 10.0.0.0/8 -j ACCEPT`);
    rule(`address${flag}/long-name`, `-A INPUT ${long} 192.168.0.0/16 -j ACCEPT`);
    rule(`address${flag}/missing-value`, `-A INPUT ${flag} -j ACCEPT`);
    rule(`address${flag}/twice`, `-A INPUT ${flag} 10.0.0.1 ${flag} 10.0.0.2 -j ACCEPT`);
    for (const [label, address] of [
      ['host', 'fd00::1'], ['prefix', 'fd00::/8'], ['loopback', '::1/128'], ['link-local', 'fe80::/10'], ['zero', '::/0'],
      ['prefix-host-bits', 'fd00::1:2/64'], ['bad-prefix', 'fd00::/129'], ['ipv4-in-ipv6', '10.0.0.1'], ['bad-group', 'fd00::12345'],
      ['mapped', '::ffff:10.0.0.1'],
    ] as const) {
      rule(`address${flag}/v6-${label}`, `-A INPUT ${flag} ${address} -j ACCEPT`, v6);
    }
    rule(`address${flag}/v6-negated`, `-A INPUT ! ${flag} fd00::/8 -j ACCEPT`, v6);
    rule(`address${flag}/v6-old-negation`, `-A INPUT ${flag} ! fd00::/8 -j ACCEPT`, v6);
  }

  // --- interfaces -----------------------------------------------------------------------
  for (const [label, name] of [
    ['plain', 'eth0'], ['wildcard', 'eth+'], ['all-wildcard', '+'], ['vlan', 'eth0.100'], ['docker-bridge', 'br-0123456789ab'],
    ['max-length', 'abcdefghijklmno'], ['too-long', 'abcdefghijklmnop'], ['dash', 'veth-a1'],
  ] as const) {
    rule(`interface-in/${label}`, `-A FORWARD -i ${name} -j ACCEPT`);
    rule(`interface-out/${label}`, `-A FORWARD -o ${name} -j ACCEPT`);
  }
  rule('interface-in/negated', '-A FORWARD ! -i docker0 -o docker0 -j ACCEPT');
  rule('interface-in/old-negation', '-A FORWARD -i ! docker0 -j ACCEPT');
  rule('interface-out/negated-wildcard', '-A FORWARD ! -o br-+ -j ACCEPT');
  rule('interface-in/long-name', '-A INPUT --in-interface lo -j ACCEPT');
  rule('interface-in/missing-value', '-A INPUT -i -j ACCEPT');
  rule('interface-in/in-OUTPUT', '-A OUTPUT -i eth0 -j ACCEPT');
  rule('interface-out/in-INPUT', '-A INPUT -o eth0 -j ACCEPT');
  rule('interface-out/in-PREROUTING', '-A PREROUTING -o eth0 -j ACCEPT', { table: 'nat' });
  rule('interface-in/in-POSTROUTING', '-A POSTROUTING -i eth0 -j ACCEPT', { table: 'nat' });
  rule('interface-in/user-chain', `-A ${USER_CHAIN} -i eth0 -o eth1 -j ACCEPT`);
  rule('interface-in/v6', '-A INPUT -i eth0 -j ACCEPT', v6);

  // --- fragments ------------------------------------------------------------------------
  rule('fragment/plain', '-A INPUT -f -j DROP');
  rule('fragment/negated', '-A INPUT ! -f -j ACCEPT');
  rule('fragment/v6', '-A INPUT -f -j DROP', v6);

  // --- tcp / udp / sctp ports -----------------------------------------------------------
  const portSpecs = [
    ['single', '80'], ['range', '1024:65535'], ['open-low', ':1023'], ['open-high', '1024:'], ['zero', '0'], ['max', '65535'],
    ['too-big', '70000'], ['reversed', '80:22'], ['negative', '-1'], ['word', 'notaport'], ['list', '80,443'], ['dash-range', '1000-2000'],
  ] as const;
  for (const protocol of ['tcp', 'udp', 'sctp'] as const) {
    for (const direction of ['dport', 'sport'] as const) {
      for (const [label, ports] of portSpecs) {
        rule(`${protocol}/${direction}-${label}`, `-A INPUT -p ${protocol} -m ${protocol} --${direction} ${ports} -j ACCEPT`);
      }
      rule(`${protocol}/${direction}-implicit-module`, `-A INPUT -p ${protocol} --${direction} 53 -j ACCEPT`);
      rule(`${protocol}/${direction}-negated`, `-A INPUT -p ${protocol} -m ${protocol} ! --${direction} 22 -j ACCEPT`);
      rule(`${protocol}/${direction}-old-negation`, `-A INPUT -p ${protocol} -m ${protocol} --${direction} ! 22 -j ACCEPT`);
      rule(`${protocol}/${direction}-without-protocol`, `-A INPUT --${direction} 80 -j ACCEPT`);
      rule(`${protocol}/${direction}-missing-value`, `-A INPUT -p ${protocol} -m ${protocol} --${direction} -j ACCEPT`);
    }
    rule(`${protocol}/module-without-protocol`, `-A INPUT -m ${protocol} --dport 80 -j ACCEPT`);
    rule(`${protocol}/both-ports`, `-A INPUT -p ${protocol} -m ${protocol} --sport 1024:65535 --dport 443 -j ACCEPT`);
    rule(`${protocol}/long-names`, `-A INPUT -p ${protocol} -m ${protocol} --source-port 1 --destination-port 2 -j ACCEPT`);
    rule(`${protocol}/v6`, `-A INPUT -p ${protocol} -m ${protocol} --dport 443 -j ACCEPT`, v6);
  }
  rule('tcp/module-for-other-protocol', '-A INPUT -p udp -m tcp --dport 80 -j ACCEPT');
  rule('udp/module-for-other-protocol', '-A INPUT -p tcp -m udp --dport 53 -j ACCEPT');
  rule('tcp/protocol-negated-with-port', '-A INPUT ! -p tcp -m tcp --dport 80 -j ACCEPT');
  rule('tcp/flags', '-A INPUT -p tcp -m tcp --tcp-flags SYN,RST,ACK,FIN SYN -j ACCEPT');
  rule('tcp/flags-all-none', '-A INPUT -p tcp -m tcp --tcp-flags ALL NONE -j DROP');
  rule('tcp/flags-negated', '-A INPUT -p tcp -m tcp ! --tcp-flags SYN,ACK SYN -j ACCEPT');
  rule('tcp/flags-unknown', '-A INPUT -p tcp -m tcp --tcp-flags SYN,BOGUS SYN -j ACCEPT');
  rule('tcp/flags-one-value', '-A INPUT -p tcp -m tcp --tcp-flags SYN -j ACCEPT');
  rule('tcp/syn', '-A INPUT -p tcp -m tcp --syn -j ACCEPT');
  rule('tcp/syn-negated', '-A INPUT -p tcp -m tcp ! --syn -j ACCEPT');
  rule('tcp/tcp-option', '-A INPUT -p tcp -m tcp --tcp-option 2 -j ACCEPT');
  rule('tcp/unknown-option', '-A INPUT -p tcp -m tcp --dports 80 -j ACCEPT');
  rule('udp/syn', '-A INPUT -p udp -m udp --syn -j ACCEPT');
  rule('sctp/chunk-types', '-A INPUT -p sctp -m sctp --chunk-types any INIT -j ACCEPT');
  rule('sctp/chunk-types-bad', '-A INPUT -p sctp -m sctp --chunk-types any NOSUCHCHUNK -j ACCEPT');

  // --- multiport ------------------------------------------------------------------------
  for (const [label, options] of [
    ['dports', '-p tcp -m multiport --dports 80,443'], ['sports', '-p udp -m multiport --sports 53,123'],
    ['ports', '-p tcp -m multiport --ports 22,80:90'], ['ranges', '-p tcp -m multiport --dports 1:100,200:300,8080'],
    ['single', '-p tcp -m multiport --dports 80'], ['negated', '-p tcp -m multiport ! --dports 80,443'],
    ['old-negation', '-p tcp -m multiport --dports ! 80,443'], ['long-name', '-p tcp -m multiport --destination-ports 80,443'],
    ['sctp', '-p sctp -m multiport --dports 3868,2905'],
    ['fifteen', '-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15'],
    ['sixteen', '-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16'],
    ['without-protocol', '-m multiport --dports 80,443'], ['icmp-protocol', '-p icmp -m multiport --dports 80'],
    ['trailing-comma', '-p tcp -m multiport --dports 80,'], ['too-big', '-p tcp -m multiport --dports 80,70000'],
    ['no-option', '-p tcp -m multiport'], ['both-dports-sports', '-p tcp -m multiport --sports 1:1023 --dports 80'],
  ] as const) {
    rule(`multiport/${label}`, `-A INPUT ${options} -j ACCEPT`);
  }
  rule('multiport/v6', '-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT', v6);

  // --- conntrack / state ----------------------------------------------------------------
  for (const [label, options] of [
    ['ctstate', '--ctstate NEW'], ['ctstate-list', '--ctstate RELATED,ESTABLISHED'], ['ctstate-negated', '! --ctstate INVALID'],
    ['ctstate-untracked', '--ctstate UNTRACKED'], ['ctstate-snat-dnat', '--ctstate SNAT,DNAT'], ['ctstate-unknown', '--ctstate BOGUS'],
    ['ctstate-lowercase', '--ctstate new'], ['ctstate-missing-value', '--ctstate'], ['ctstate-old-negation', '--ctstate ! INVALID'],
    ['ctstatus', '--ctstatus ASSURED'], ['ctstatus-list', '--ctstatus EXPECTED,SEEN_REPLY,CONFIRMED'], ['ctstatus-none', '--ctstatus NONE'],
    ['ctstatus-unknown', '--ctstatus BOGUS'], ['ctdir-original', '--ctdir ORIGINAL'], ['ctdir-reply', '--ctdir REPLY'],
    ['ctdir-unknown', '--ctdir SIDEWAYS'], ['ctorigdst', '--ctorigdst 203.0.113.10'], ['ctorigdst-negated', '! --ctorigdst 10.0.0.0/8'],
    ['ctorigsrc', '--ctorigsrc 10.0.0.0/8'], ['ctrepldst', '--ctrepldst 172.17.0.2'], ['ctreplsrc', '--ctreplsrc 172.17.0.0/16'],
    ['ctorigdst-bad', '--ctorigdst 300.0.0.1'], ['ctorigdstport', '--ctorigdstport 8080'], ['ctorigdstport-range', '--ctorigdstport 8000:8100'],
    ['ctorigsrcport', '--ctorigsrcport 1024:65535'], ['ctreplsrcport', '--ctreplsrcport 80'], ['ctrepldstport', '--ctrepldstport 40000'],
    ['ctorigdstport-too-big', '--ctorigdstport 70000'], ['ctproto', '--ctproto tcp'], ['ctproto-with-port', '--ctproto tcp --ctorigdstport 8080'],
    ['ctexpire', '--ctexpire 10:100'], ['docker-user', '--ctstate NEW --ctorigdstport 8080 --ctdir ORIGINAL'],
    ['no-option', ''], ['unknown-option', '--ctnothing 1'],
  ] as const) {
    rule(`conntrack/${label}`, `-A FORWARD -m conntrack ${options} -j ACCEPT`.replace('  ', ' '));
  }
  rule('conntrack/v6-ctorigdst', '-A FORWARD -m conntrack --ctorigdst fd00::1 -j ACCEPT', v6);
  rule('conntrack/v6-ctorigdst-ipv4', '-A FORWARD -m conntrack --ctorigdst 10.0.0.1 -j ACCEPT', v6);
  rule('conntrack/ctstate-without-module', '-A FORWARD --ctstate NEW -j ACCEPT');
  for (const [label, options] of [
    ['list', '--state NEW,ESTABLISHED'], ['related', '--state RELATED,ESTABLISHED'], ['negated', '! --state INVALID'],
    ['untracked', '--state UNTRACKED'], ['snat-not-a-state', '--state SNAT'], ['unknown', '--state FOO'], ['no-option', ''],
  ] as const) {
    rule(`state/${label}`, `-A INPUT -m state ${options} -j ACCEPT`.replace('  ', ' '));
  }

  // --- addrtype -------------------------------------------------------------------------
  for (const [label, chain, options] of [
    ['dst-local', 'PREROUTING', '--dst-type LOCAL'], ['dst-negated', 'PREROUTING', '! --dst-type LOCAL'],
    ['src-list', 'PREROUTING', '--src-type LOCAL,UNICAST'], ['both', 'OUTPUT', '--src-type UNICAST --dst-type LOCAL'],
    ['limit-iface-in', 'PREROUTING', '--dst-type LOCAL --limit-iface-in'], ['limit-iface-in-in-OUTPUT', 'OUTPUT', '--dst-type LOCAL --limit-iface-in'],
    ['limit-iface-out-in-OUTPUT', 'OUTPUT', '--dst-type LOCAL --limit-iface-out'], ['limit-iface-both', 'PREROUTING', '--dst-type LOCAL --limit-iface-in --limit-iface-out'],
    ['unknown-type', 'PREROUTING', '--dst-type BOGUS'], ['lowercase', 'PREROUTING', '--dst-type local'], ['no-option', 'PREROUTING', ''],
  ] as const) {
    rule(`addrtype/${label}`, `-A ${chain} -m addrtype ${options} -j ${USER_CHAIN}`.replace('  ', ' '), { table: 'nat' });
  }
  rule('addrtype/v6', '-A PREROUTING -m addrtype --dst-type LOCAL -j RETURN', { table: 'nat', family: 'ipv6' });

  // --- iprange --------------------------------------------------------------------------
  for (const [label, options, family] of [
    ['src', '-m iprange --src-range 10.0.0.1-10.0.0.9', 'ipv4'], ['dst', '-m iprange --dst-range 192.168.1.100-192.168.1.200', 'ipv4'],
    ['negated', '-m iprange ! --src-range 10.0.0.1-10.0.0.9', 'ipv4'], ['both', '-m iprange --src-range 10.0.0.1-10.0.0.9 --dst-range 10.0.1.1-10.0.1.9', 'ipv4'],
    ['single-address', '-m iprange --src-range 10.0.0.1', 'ipv4'], ['reversed', '-m iprange --src-range 10.0.0.9-10.0.0.1', 'ipv4'],
    ['bad-address', '-m iprange --src-range 10.0.0.1-10.0.0.300', 'ipv4'], ['without-module', '--src-range 10.0.0.1-10.0.0.9', 'ipv4'],
    ['cidr', '-m iprange --src-range 10.0.0.0/8', 'ipv4'], ['v6', '-m iprange --src-range fd00::1-fd00::ff', 'ipv6'],
    ['v4-in-v6', '-m iprange --src-range 10.0.0.1-10.0.0.9', 'ipv6'],
  ] as const) {
    rule(`iprange/${label}`, `-A INPUT ${options} -j ACCEPT`, { family });
  }

  // --- comment --------------------------------------------------------------------------
  for (const [label, value] of [
    ['quoted', '"allow ssh from the office"'], ['bare', 'hello'], ['escaped-quotes', String.raw`"say \"hi\" twice"`],
    ['single-quotes', "'single quoted'"], ['empty', '""'], ['hash', '"not # a comment"'], ['max-length', `"${'x'.repeat(255)}"`],
    ['too-long', `"${'x'.repeat(256)}"`], ['unterminated', '"never closed'], ['docker-style', '"DOCKER-USER: allow 10.0.0.0/8"'],
    ['unicode', '"café ☕"'], ['missing-value', ''],
  ] as const) {
    rule(`comment/${label}`, `-A INPUT -m comment --comment ${value} -j ACCEPT`.replace('  ', ' '));
  }
  rule('comment/twice', '-A INPUT -m comment --comment one -m comment --comment two -j ACCEPT');
  rule('comment/without-module', '-A INPUT --comment "hello" -j ACCEPT');

  // --- mark / connmark ------------------------------------------------------------------
  for (const [label, options] of [
    ['value', '--mark 0x1'], ['decimal', '--mark 17'], ['value-mask', '--mark 0x1/0xff'], ['negated', '! --mark 0x1'],
    ['bad-value', '--mark foo'], ['too-big', '--mark 0x100000000'], ['max', '--mark 0xffffffff/0xffffffff'], ['missing-value', '--mark'],
  ] as const) {
    rule(`mark/${label}`, `-A INPUT -m mark ${options} -j ACCEPT`);
    rule(`connmark/${label}`, `-A INPUT -m connmark ${options} -j ACCEPT`);
  }

  // --- set ------------------------------------------------------------------------------
  for (const [label, options, family] of [
    ['src', `--match-set ${IPSET_V4} src`, 'ipv4'], ['dst-src', `--match-set ${IPSET_V4} dst,src`, 'ipv4'],
    ['negated', `! --match-set ${IPSET_V4} src`, 'ipv4'], ['bad-direction', `--match-set ${IPSET_V4} sideways`, 'ipv4'],
    ['missing-direction', `--match-set ${IPSET_V4}`, 'ipv4'], ['v6', `--match-set ${IPSET_V6} dst`, 'ipv6'],
    ['counters', `--match-set ${IPSET_V4} src --packets-gt 10`, 'ipv4'],
  ] as const) {
    rule(`set/${label}`, `-A INPUT -m set ${options} -j DROP`, { family });
  }

  // --- physdev / mac / pkttype ----------------------------------------------------------
  for (const [label, chain, options] of [
    ['in', 'FORWARD', '--physdev-in veth0'], ['out-bridged', 'FORWARD', '--physdev-out eth+ --physdev-is-bridged'],
    ['is-in-negated', 'FORWARD', '! --physdev-is-in'], ['is-out', 'FORWARD', '--physdev-is-out'],
    ['out-in-OUTPUT', 'OUTPUT', '--physdev-out veth0'], ['out-bridged-in-OUTPUT', 'OUTPUT', '--physdev-out veth0 --physdev-is-bridged'],
    ['no-option', 'FORWARD', ''], ['too-long', 'FORWARD', '--physdev-in abcdefghijklmnop'],
  ] as const) {
    rule(`physdev/${label}`, `-A ${chain} -m physdev ${options} -j ACCEPT`.replace('  ', ' '));
  }
  for (const [label, chain, options] of [
    ['source', 'INPUT', '--mac-source 00:11:22:33:44:55'], ['negated', 'FORWARD', '! --mac-source 02:42:ac:11:00:02'],
    ['uppercase', 'INPUT', '--mac-source AA:BB:CC:DD:EE:FF'], ['bad', 'INPUT', '--mac-source 00:11:22:33:44'],
    ['in-OUTPUT', 'OUTPUT', '--mac-source 00:11:22:33:44:55'],
  ] as const) {
    rule(`mac/${label}`, `-A ${chain} -m mac ${options} -j ACCEPT`);
  }
  for (const [label, options] of [
    ['broadcast', '--pkt-type broadcast'], ['multicast', '--pkt-type multicast'], ['unicast', '--pkt-type unicast'],
    ['negated', '! --pkt-type unicast'], ['unknown', '--pkt-type anycast'], ['uppercase', '--pkt-type BROADCAST'],
  ] as const) {
    rule(`pkttype/${label}`, `-A INPUT -m pkttype ${options} -j DROP`);
  }

  // --- limit / recent / statistic -------------------------------------------------------
  for (const [label, options] of [
    ['per-minute', '--limit 5/min --limit-burst 10'], ['per-second', '--limit 3/second'], ['per-hour', '--limit 10/hour'],
    ['per-day', '--limit 1/day'], ['plain-number', '--limit 5'], ['bad-unit', '--limit 5/fortnight'], ['word', '--limit fast'],
    ['burst-only', '--limit-burst 5'], ['no-option', ''], ['negated', '! --limit 5/min'],
  ] as const) {
    rule(`limit/${label}`, `-A INPUT -m limit ${options} -j LOG`.replace('  ', ' '));
  }
  for (const [label, options] of [
    ['set', '--set --name SSH --mask 255.255.255.255 --rsource'], ['update', '--update --seconds 60 --hitcount 4 --name SSH --rsource'],
    ['rcheck', '--rcheck --seconds 60 --name DEFAULT'], ['remove', '--remove --name SSH'], ['rdest', '--set --name X --rdest'],
    ['hitcount-too-big', '--update --seconds 60 --hitcount 300 --name SSH'], ['no-command', '--seconds 60 --name SSH'],
    ['two-commands', '--set --update --name SSH'], ['negated', '! --rcheck --name SSH'], ['reap', '--rcheck --seconds 60 --reap --name SSH'],
  ] as const) {
    rule(`recent/${label}`, `-A INPUT -p tcp -m tcp --dport 22 -m recent ${options} -j DROP`);
  }
  for (const [label, options] of [
    ['random', '--mode random --probability 0.5'], ['nth', '--mode nth --every 3 --packet 0'], ['nth-no-every', '--mode nth --packet 1'],
    ['probability-too-big', '--mode random --probability 2'], ['unknown-mode', '--mode sometimes'], ['negated', '--mode random ! --probability 0.25'],
    ['packet-too-big', '--mode nth --every 3 --packet 3'],
  ] as const) {
    rule(`statistic/${label}`, `-A INPUT -m statistic ${options} -j ACCEPT`);
  }

  // --- owner ----------------------------------------------------------------------------
  for (const [label, chain, options, table] of [
    ['uid', 'OUTPUT', '--uid-owner 0', 'filter'], ['gid', 'OUTPUT', '--gid-owner 0', 'filter'], ['negated', 'OUTPUT', '! --uid-owner 1000', 'filter'],
    ['uid-range', 'OUTPUT', '--uid-owner 1000-2000', 'filter'], ['socket-exists', 'OUTPUT', '--socket-exists', 'filter'],
    ['in-INPUT', 'INPUT', '--uid-owner 0', 'filter'], ['in-FORWARD', 'FORWARD', '--uid-owner 0', 'filter'],
    ['in-nat-POSTROUTING', 'POSTROUTING', '--uid-owner 0', 'nat'], ['in-nat-PREROUTING', 'PREROUTING', '--uid-owner 0', 'nat'],
    ['no-option', 'OUTPUT', '', 'filter'], ['user-chain', USER_CHAIN, '--uid-owner 0', 'filter'],
  ] as const) {
    rule(`owner/${label}`, `-A ${chain} -m owner ${options} -j ACCEPT`.replace('  ', ' '), { table });
  }

  // --- string / u32 ---------------------------------------------------------------------
  for (const [label, options] of [
    ['bm', '--string "GET /admin" --algo bm'], ['kmp-hex', '--hex-string "|00 01 02|" --algo kmp'], ['range', '--string "x" --algo bm --from 10 --to 100'],
    ['no-algo', '--string "GET"'], ['bad-algo', '--string "GET" --algo fast'], ['negated', '! --string "GET" --algo bm'],
    ['bad-hex', '--hex-string "|0g|" --algo bm'], ['icase', '--string "get" --algo bm --icase'],
  ] as const) {
    rule(`string/${label}`, `-A INPUT -p tcp -m tcp --dport 80 -m string ${options} -j DROP`);
  }
  for (const [label, expression] of [
    ['ip-protocol', '"6&0xFF=1"'], ['tcp-ack', '"0>>22&0x3C@12>>26&0x3C@0=0"'], ['ranges', '"0&0xFFFF=0x100:0xFFFF"'],
    ['bad', '"6&&0xFF=1"'], ['empty', '""'],
  ] as const) {
    rule(`u32/${label}`, `-A INPUT -m u32 --u32 ${expression} -j DROP`);
  }
  rule('u32/negated', '-A INPUT -m u32 ! --u32 "6&0xFF=6" -j DROP');

  // --- icmp / icmp6 ---------------------------------------------------------------------
  for (const [label, spec] of [
    ['name', 'echo-request'], ['number', '8'], ['type-code', '3/3'], ['any', 'any'], ['code-name', 'port-unreachable'],
    ['unknown', 'bogus'], ['too-big', '256'], ['uppercase', 'ECHO-REQUEST'],
  ] as const) {
    rule(`icmp/${label}`, `-A INPUT -p icmp -m icmp --icmp-type ${spec} -j ACCEPT`);
  }
  rule('icmp/negated', '-A INPUT -p icmp -m icmp ! --icmp-type 8 -j DROP');
  rule('icmp/implicit-module', '-A INPUT -p icmp --icmp-type 0 -j ACCEPT');
  rule('icmp/without-protocol', '-A INPUT --icmp-type 8 -j ACCEPT');
  rule('icmp/tcp-protocol', '-A INPUT -p tcp -m icmp --icmp-type 8 -j ACCEPT');
  rule('icmp/in-ipv6', '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT', v6);
  for (const [label, spec] of [
    ['name', 'echo-request'], ['number', '128'], ['type-code', '1/4'], ['neighbour', 'neighbour-solicitation'],
    ['neighbor-alias', 'neighbor-advertisement'], ['unknown', 'bogus'],
  ] as const) {
    rule(`icmp6/${label}`, `-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type ${spec} -j ACCEPT`, v6);
  }
  rule('icmp6/negated', '-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 128 -j DROP', v6);
  rule('icmp6/implicit-module', '-A INPUT -p icmpv6 --icmpv6-type 135 -j ACCEPT', v6);
  rule('icmp6/in-ipv4', '-A INPUT -p icmp -m icmp6 --icmpv6-type 8 -j ACCEPT');

  // --- verdicts, jumps, REJECT ----------------------------------------------------------
  for (const verdict of ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'] as const) rule(`verdict/${verdict}`, `-A INPUT -j ${verdict}`);
  rule('verdict/lowercase', '-A INPUT -j accept');
  rule('verdict/none', '-A INPUT -p tcp');
  rule('verdict/missing-value', '-A INPUT -j');
  rule('verdict/long-name', '-A INPUT --jump ACCEPT');
  rule('verdict/twice', '-A INPUT -j ACCEPT -j DROP');
  rule('verdict/v6', '-A INPUT -j DROP', v6);
  rule('jump/existing', `-A INPUT -j ${USER_CHAIN}`);
  rule('jump/goto-existing', `-A INPUT -g ${USER_CHAIN}`);
  rule('jump/goto-long-name', `-A INPUT --goto ${USER_CHAIN}`);
  rule('jump/missing', `-A INPUT -j ${MISSING_CHAIN}`);
  rule('jump/goto-missing', `-A INPUT -g ${MISSING_CHAIN}`);
  rule('jump/to-itself', `-A ${USER_CHAIN} -j ${USER_CHAIN}`);
  rule('jump/to-builtin', '-A INPUT -j OUTPUT');
  rule('jump/goto-builtin-verdict', '-A INPUT -g ACCEPT');
  rule('jump/case-mismatch', `-A INPUT -j ${USER_CHAIN.toLowerCase()}`);
  rule('jump/v6-existing', `-A FORWARD -j ${USER_CHAIN}`, v6);
  rule('jump/v6-missing', `-A FORWARD -j ${MISSING_CHAIN}`, v6);
  for (const [label, chain, options] of [
    ['plain', 'INPUT', ''], ['port-unreachable', 'INPUT', '--reject-with icmp-port-unreachable'],
    ['host-prohibited', 'FORWARD', '--reject-with icmp-host-prohibited'], ['admin-prohibited', 'OUTPUT', '--reject-with icmp-admin-prohibited'],
    ['net-unreachable', 'INPUT', '--reject-with icmp-net-unreachable'], ['tcp-reset-without-tcp', 'INPUT', '--reject-with tcp-reset'],
    ['unknown', 'INPUT', '--reject-with icmp-bogus'], ['icmp6-in-ipv4', 'INPUT', '--reject-with icmp6-port-unreachable'],
    ['user-chain', USER_CHAIN, ''], ['missing-value', 'INPUT', '--reject-with'],
  ] as const) {
    rule(`reject/${label}`, `-A ${chain} -j REJECT ${options}`.trimEnd());
  }
  rule('reject/tcp-reset', '-A INPUT -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset');
  rule('reject/in-nat', '-A PREROUTING -j REJECT', { table: 'nat' });
  rule('reject/in-mangle-INPUT', '-A INPUT -j REJECT', { table: 'mangle' });
  rule('reject/in-mangle-PREROUTING', '-A PREROUTING -j REJECT', { table: 'mangle' });
  rule('reject/in-raw', '-A PREROUTING -j REJECT', { table: 'raw' });
  rule('reject/v6-port-unreachable', '-A INPUT -j REJECT --reject-with icmp6-port-unreachable', v6);
  rule('reject/v6-adm-prohibited', '-A INPUT -j REJECT --reject-with icmp6-adm-prohibited', v6);
  rule('reject/v6-tcp-reset', '-A INPUT -p tcp -j REJECT --reject-with tcp-reset', v6);
  rule('reject/v6-icmp-in-ipv6', '-A INPUT -j REJECT --reject-with icmp-port-unreachable', v6);

  // --- LOG / NFLOG ----------------------------------------------------------------------
  for (const [label, options] of [
    ['plain', ''], ['prefix', '--log-prefix "DROP: "'], ['level-number', '--log-level 4'], ['level-name', '--log-level warning'],
    ['level-unknown', '--log-level loud'], ['prefix-max', `--log-prefix "${'p'.repeat(29)}"`], ['prefix-too-long', `--log-prefix "${'p'.repeat(30)}"`],
    ['flags', '--log-tcp-sequence --log-tcp-options --log-ip-options --log-uid'], ['unknown-option', '--log-everything'],
  ] as const) {
    rule(`log/${label}`, `-A INPUT -j LOG ${options}`.trimEnd());
  }
  for (const [label, options] of [
    ['group', '--nflog-group 2'], ['prefix', '--nflog-group 5 --nflog-prefix "docker drop"'], ['threshold', '--nflog-threshold 1'],
    ['size', '--nflog-size 128'], ['range', '--nflog-range 64'], ['group-too-big', '--nflog-group 70000'], ['plain', ''],
    ['prefix-too-long', `--nflog-prefix "${'n'.repeat(64)}"`],
  ] as const) {
    rule(`nflog/${label}`, `-A INPUT -j NFLOG ${options}`.trimEnd());
  }

  // --- NAT targets ----------------------------------------------------------------------
  const nat = { table: 'nat' } as const;
  for (const [label, chain, options] of [
    ['prerouting', 'PREROUTING', '-p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'],
    ['output', 'OUTPUT', '-d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'],
    ['user-chain', USER_CHAIN, '! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'],
    ['address-only', 'PREROUTING', '-j DNAT --to-destination 172.17.0.2'],
    ['ranges', 'PREROUTING', '-p udp -j DNAT --to-destination 10.0.0.1-10.0.0.5:1000-2000'],
    ['port-without-protocol', 'PREROUTING', '-j DNAT --to-destination 172.17.0.2:80'],
    ['postrouting', 'POSTROUTING', '-p tcp -j DNAT --to-destination 172.17.0.2:80'],
    ['input', 'INPUT', '-p tcp -j DNAT --to-destination 172.17.0.2:80'],
    ['bad-address', 'PREROUTING', '-p tcp -j DNAT --to-destination 300.0.0.1:80'],
    ['bad-port', 'PREROUTING', '-p tcp -j DNAT --to-destination 172.17.0.2:70000'],
    ['no-destination', 'PREROUTING', '-j DNAT'],
    ['random-persistent', 'PREROUTING', '-p tcp -j DNAT --to-destination 172.17.0.2:80 --random --persistent'],
    ['to-short-name', 'PREROUTING', '-p tcp -j DNAT --to 172.17.0.2:80'],
  ] as const) {
    rule(`dnat/${label}`, `-A ${chain} ${options}`, nat);
  }
  rule('dnat/in-filter', '-A FORWARD -p tcp -j DNAT --to-destination 172.17.0.2:80');
  rule('dnat/in-mangle', '-A PREROUTING -p tcp -j DNAT --to-destination 172.17.0.2:80', { table: 'mangle' });
  rule('dnat/v6', '-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00::2]:80', { table: 'nat', family: 'ipv6' });
  rule('dnat/v6-without-brackets', '-A PREROUTING -p tcp -j DNAT --to-destination fd00::2', { table: 'nat', family: 'ipv6' });
  rule('dnat/v6-ipv4-address', '-A PREROUTING -p tcp -j DNAT --to-destination 172.17.0.2:80', { table: 'nat', family: 'ipv6' });
  for (const [label, chain, options] of [
    ['postrouting', 'POSTROUTING', '-s 172.17.0.0/16 -j SNAT --to-source 203.0.113.10'],
    ['input', 'INPUT', '-j SNAT --to-source 203.0.113.10'],
    ['range-ports', 'POSTROUTING', '-p tcp -j SNAT --to-source 203.0.113.10-203.0.113.20:1024-65535'],
    ['prerouting', 'PREROUTING', '-j SNAT --to-source 203.0.113.10'],
    ['output', 'OUTPUT', '-j SNAT --to-source 203.0.113.10'],
    ['no-source', 'POSTROUTING', '-j SNAT'],
  ] as const) {
    rule(`snat/${label}`, `-A ${chain} ${options}`, nat);
  }
  rule('snat/in-filter', '-A OUTPUT -j SNAT --to-source 203.0.113.10');
  for (const [label, chain, options] of [
    ['postrouting', 'POSTROUTING', '-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE'],
    ['to-ports', 'POSTROUTING', '-p tcp -j MASQUERADE --to-ports 1024-65535'],
    ['to-ports-without-protocol', 'POSTROUTING', '-j MASQUERADE --to-ports 1024-65535'],
    ['random', 'POSTROUTING', '-j MASQUERADE --random'],
    ['prerouting', 'PREROUTING', '-j MASQUERADE'],
    ['output', 'OUTPUT', '-j MASQUERADE'],
    ['docker-hairpin', 'POSTROUTING', '-s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE'],
  ] as const) {
    rule(`masquerade/${label}`, `-A ${chain} ${options}`, nat);
  }
  rule('masquerade/in-filter', '-A FORWARD -j MASQUERADE');
  rule('masquerade/v6', '-A POSTROUTING -s fd00::/64 ! -o br-x -j MASQUERADE', { table: 'nat', family: 'ipv6' });
  for (const [label, chain, options] of [
    ['prerouting', 'PREROUTING', '-p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080'],
    ['output', 'OUTPUT', '-p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080'],
    ['range', 'PREROUTING', '-p tcp -j REDIRECT --to-ports 8000-8010'],
    ['no-ports', 'PREROUTING', '-p tcp -j REDIRECT'],
    ['without-protocol', 'PREROUTING', '-j REDIRECT --to-ports 8080'],
    ['postrouting', 'POSTROUTING', '-p tcp -j REDIRECT --to-ports 8080'],
    ['bad-port', 'PREROUTING', '-p tcp -j REDIRECT --to-ports 70000'],
  ] as const) {
    rule(`redirect/${label}`, `-A ${chain} ${options}`, nat);
  }
  rule('redirect/in-filter', '-A INPUT -p tcp -j REDIRECT --to-ports 8080');

  // --- MARK / CONNMARK ------------------------------------------------------------------
  const mangle = { table: 'mangle' } as const;
  for (const [label, options] of [
    ['set-mark', '--set-mark 0x1'], ['set-xmark', '--set-xmark 0x1/0xff'], ['and-mark', '--and-mark 0xff'], ['or-mark', '--or-mark 0x4'],
    ['xor-mark', '--xor-mark 0x4'], ['set-mark-mask', '--set-mark 0x1/0x1'], ['no-option', ''], ['missing-value', '--set-mark'],
    ['bad-value', '--set-mark lots'], ['two-operations', '--set-mark 1 --or-mark 2'],
  ] as const) {
    rule(`mark-target/${label}`, `-A PREROUTING -j MARK ${options}`.trimEnd(), mangle);
  }
  rule('mark-target/in-filter', '-A INPUT -j MARK --set-mark 0x1');
  rule('mark-target/in-nat', '-A PREROUTING -j MARK --set-mark 0x1', nat);
  for (const [label, options] of [
    ['set-mark', '--set-mark 0x1'], ['set-xmark', '--set-xmark 0x1/0xff'], ['save', '--save-mark'], ['restore', '--restore-mark'],
    ['save-mask', '--save-mark --mask 0xff'], ['restore-masks', '--restore-mark --nfmask 0xff --ctmask 0xff'], ['no-option', ''],
    ['bad-value', '--set-mark lots'],
  ] as const) {
    rule(`connmark-target/${label}`, `-A PREROUTING -j CONNMARK ${options}`.trimEnd(), mangle);
  }

  // --- raw-table targets and mangle helpers ---------------------------------------------
  const raw = { table: 'raw' } as const;
  rule('ct/notrack', '-A PREROUTING -p udp -m udp --dport 53 -j CT --notrack', raw);
  rule('ct/zone', '-A PREROUTING -j CT --zone 1', raw);
  rule('ct/helper', '-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp', raw);
  rule('ct/helper-unknown', '-A PREROUTING -p tcp -j CT --helper nosuchhelper', raw);
  rule('ct/output', '-A OUTPUT -j CT --notrack', raw);
  rule('ct/in-filter', '-A INPUT -j CT --notrack');
  rule('ct/in-mangle', '-A PREROUTING -j CT --notrack', mangle);
  rule('ct/unknown-option', '-A PREROUTING -j CT --untrack', raw);
  rule('ct/v6', '-A PREROUTING -j CT --notrack', { table: 'raw', family: 'ipv6' });
  rule('notrack/raw', '-A PREROUTING -j NOTRACK', raw);
  rule('notrack/in-filter', '-A INPUT -j NOTRACK');
  rule('trace/raw', '-A PREROUTING -p tcp -j TRACE', raw);
  rule('trace/raw-output', '-A OUTPUT -j TRACE', raw);
  rule('trace/in-filter', '-A INPUT -j TRACE');
  rule('trace/in-mangle', '-A PREROUTING -j TRACE', mangle);
  rule('tcpmss/clamp', '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu', mangle);
  rule('tcpmss/set', '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400', mangle);
  rule('tcpmss/in-filter', '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu');
  rule('tcpmss/without-syn-match', '-A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu', mangle);
  rule('tcpmss/without-tcp', '-A FORWARD -j TCPMSS --set-mss 1400', mangle);
  rule('tcpmss/clamp-in-PREROUTING', '-A PREROUTING -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu', mangle);
  rule('tcpmss/no-option', '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS', mangle);
  rule('checksum/fill', '-A POSTROUTING -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill', mangle);
  rule('checksum/no-option', '-A POSTROUTING -p udp -j CHECKSUM', mangle);
  rule('checksum/in-filter', '-A OUTPUT -p udp -j CHECKSUM --checksum-fill');

  // --- unknown things -------------------------------------------------------------------
  rule('unknown/option', '-A INPUT --frobnicate 1 -j ACCEPT');
  rule('unknown/short-option', '-A INPUT -z -j ACCEPT');
  rule('unknown/bare-word', '-A INPUT ACCEPT');
  rule('unknown/match-option-without-match', '-A INPUT --mark 1 -j ACCEPT');
  rule('unknown/target-option-without-target', '-A INPUT --to-destination 10.0.0.1 -j ACCEPT');
  rule('unknown/target-option-for-other-target', '-A INPUT -j ACCEPT --reject-with tcp-reset');

  // --- counters and commands inside a restore file --------------------------------------
  rule('counters/prefix', '[12:3456] -A INPUT -j ACCEPT');
  rule('counters/option', '-A INPUT -c 12 3456 -j ACCEPT');
  rule('counters/bad-prefix', '[12:x] -A INPUT -j ACCEPT');
  rule('command/insert', '-I INPUT 1 -j ACCEPT');
  rule('command/insert-no-position', '-I INPUT -j ACCEPT');
  rule('command/insert-beyond-end', '-I INPUT 5 -j ACCEPT');
  rule('command/policy', '-P INPUT DROP');
  rule('command/new-chain', '-N ANOTHER');
  rule('command/new-existing-chain', `-N ${USER_CHAIN}`);
  rule('command/flush', '-F INPUT');
  rule('command/delete-missing-rule', '-D INPUT -j ACCEPT');
  rule('command/table-option', '-t filter -A INPUT -j ACCEPT');
  rule('command/append-undeclared-chain', `-A ${MISSING_CHAIN} -j ACCEPT`);
  rule('command/append-no-chain', '-A -j ACCEPT');
  rule('command/append-lowercase-builtin', '-A input -j ACCEPT');
  rule('command/append-nat-chain-in-filter', '-A PREROUTING -j ACCEPT');
  rule('command/append-to-OUTPUT-in-raw', '-A OUTPUT -j ACCEPT', raw);
  rule('command/append-to-FORWARD-in-nat', '-A FORWARD -j ACCEPT', nat);

  // --- file structure -------------------------------------------------------------------
  const file = (id: string, lines: readonly string[], family: Family = 'ipv4', line = lines.join('⏎')): void =>
    add(`structure/${id}`, family, [...lines, ''].join('\n'), line);
  for (const table of ['filter', 'nat', 'mangle', 'raw', 'security'] as const) {
    file(`empty-${table}`, [`*${table}`, ...BUILTIN[table].map((chain) => `:${chain} ACCEPT [0:0]`), 'COMMIT']);
    file(`empty-${table}-v6`, [`*${table}`, ...BUILTIN[table].map((chain) => `:${chain} ACCEPT [0:0]`), 'COMMIT'], 'ipv6');
  }
  file('unknown-table', ['*firewall', ':INPUT ACCEPT [0:0]', 'COMMIT']);
  file('broute-table', ['*broute', ':BROUTING ACCEPT [0:0]', 'COMMIT']);
  file('missing-commit', ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -j ACCEPT']);
  file('rule-before-table', ['-A INPUT -j ACCEPT', '*filter', ':INPUT ACCEPT [0:0]', 'COMMIT']);
  file('chain-before-table', [':INPUT ACCEPT [0:0]', '*filter', 'COMMIT']);
  file('commit-without-table', ['COMMIT']);
  file('two-commits', ['*filter', ':INPUT ACCEPT [0:0]', 'COMMIT', 'COMMIT']);
  file('table-inside-table', ['*filter', ':INPUT ACCEPT [0:0]', '*nat', 'COMMIT']);
  file('two-tables', ['*nat', ':PREROUTING ACCEPT [0:0]', 'COMMIT', '*filter', ':INPUT DROP [0:0]', '-A INPUT -i lo -j ACCEPT', 'COMMIT']);
  file('same-table-twice', ['*filter', ':INPUT ACCEPT [0:0]', 'COMMIT', '*filter', ':INPUT DROP [0:0]', 'COMMIT']);
  file('empty-file', []);
  file('only-comments', ['# Generated by iptables-save v1.8.9 on Sat Nov 28 08:00:00 2026', '# Completed']);
  file('comments-and-blank-lines', ['# header', '*filter', '', ':INPUT ACCEPT [0:0]', '# between', '-A INPUT -j ACCEPT', '', 'COMMIT']);
  file('indented-rule', ['*filter', ':INPUT ACCEPT [0:0]', '  -A INPUT -j ACCEPT', 'COMMIT']);
  file('trailing-space-table', ['*filter ', ':INPUT ACCEPT [0:0]', 'COMMIT']);
  file('trailing-space-chain', ['*filter', ':INPUT ACCEPT [0:0] ', 'COMMIT']);
  file('trailing-space-rule', ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -j ACCEPT  ', 'COMMIT']);
  file('trailing-space-commit', ['*filter', ':INPUT ACCEPT [0:0]', 'COMMIT ']);
  file('tab-separated', ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT\t-p tcp\t-j ACCEPT', 'COMMIT']);
  file('crlf', ['*filter\r', ':INPUT ACCEPT [0:0]\r', '-A INPUT -j ACCEPT\r', 'COMMIT\r']);
  file('policy-drop', ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT']);
  file('policy-unknown', ['*filter', ':INPUT REJECT [0:0]', 'COMMIT']);
  file('policy-lowercase', ['*filter', ':INPUT drop [0:0]', 'COMMIT']);
  file('policy-on-user-chain', ['*filter', ':MINE ACCEPT [0:0]', 'COMMIT']);
  file('dash-policy-on-builtin', ['*filter', ':INPUT - [0:0]', 'COMMIT']);
  file('chain-without-counters', ['*filter', ':INPUT ACCEPT', ':MINE -', '-A INPUT -j MINE', 'COMMIT']);
  file('chain-counters', ['*filter', ':INPUT ACCEPT [123:45678]', 'COMMIT']);
  file('chain-bad-counters', ['*filter', ':INPUT ACCEPT [x:y]', 'COMMIT']);
  file('chain-without-policy', ['*filter', ':MINE', 'COMMIT']);
  file('chain-name-max', ['*filter', `:${'C'.repeat(28)} - [0:0]`, 'COMMIT']);
  file('chain-name-too-long', ['*filter', `:${'C'.repeat(29)} - [0:0]`, 'COMMIT']);
  file('chain-name-dash-start', ['*filter', ':-MINE - [0:0]', 'COMMIT']);
  file('chain-named-like-target', ['*filter', ':ACCEPT - [0:0]', 'COMMIT']);
  file('chain-named-like-target-module', ['*filter', ':LOG - [0:0]', 'COMMIT']);
  file('chain-declared-twice', ['*filter', ':MINE - [0:0]', ':MINE - [0:0]', 'COMMIT']);
  file('builtin-declared-twice', ['*filter', ':INPUT ACCEPT [0:0]', ':INPUT DROP [0:0]', 'COMMIT']);
  file('builtins-omitted', ['*filter', ':MINE - [0:0]', '-A INPUT -j MINE', 'COMMIT']);
  file('builtin-of-other-table', ['*filter', ':PREROUTING ACCEPT [0:0]', 'COMMIT']);
  file('chain-declared-after-rule', ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -j MINE', ':MINE - [0:0]', 'COMMIT']);
  file('docker-shape', [
    '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':DOCKER - [0:0]', ':DOCKER-USER - [0:0]',
    '-A FORWARD -j DOCKER-USER', '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A FORWARD -o docker0 -j DOCKER',
    '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT', '-A DOCKER-USER -j RETURN', 'COMMIT',
  ], 'ipv4', 'docker filter table');
  file('garbage-line', ['*filter', ':INPUT ACCEPT [0:0]', 'hello world', 'COMMIT']);
  file('table-name-missing', ['*', 'COMMIT']);
  return cases;
}

interface Outcome {
  readonly nftAccepts: boolean;
  /** Undefined where legacy xtables is not in this kernel. */
  readonly legacyAccepts: boolean | undefined;
  readonly kernelStderr: string;
  readonly parserAccepts: boolean;
  readonly parserErrors: readonly string[];
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Sets the `set` cases refer to: on a real host they exist before the rules that use them. */
async function createIpsets(ns: Namespace): Promise<void> {
  for (const [name, family] of [[IPSET_V4, 'inet'], [IPSET_V6, 'inet6']] as const) {
    const created = await ns.exec('ipset', ['create', name, 'hash:ip', 'family', family]);
    if (created.code !== 0) throw new Error(`ipset create ${name} failed: ${created.stderr.trim()}`);
  }
}

/** The informative part of iptables-restore's complaint, without its usage boilerplate. */
function firstLines(stderr: string): string {
  const informative = stderr.split('\n').filter((line) => line.trim() !== '' && !/^(Try `|Error occurred at line)/.test(line));
  return informative.slice(0, 2).join(' / ');
}

const availability = netnsAvailable();
if (!availability.ok) console.log(`restore-agreement: skipped, no scratch network namespace here (${availability.reason})`);

describe.skipIf(!availability.ok)('parse() agrees with iptables-restore', () => {
  const cases = buildCases();

  it('generates at least 300 distinct cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
  });

  it('accepts exactly what the kernel accepts', { timeout: 120_000 }, async () => {
    const { outcomes, legacy, compared } = await withScratchNamespace(async (ns) => {
      await createIpsets(ns);
      const legacy = await legacyAvailable(ns);
      const compared = legacy ? cases : cases.filter((testCase) => !LEGACY_ONLY.has(testCase.id));
      const outcomes = await mapConcurrently(compared, 4, async (testCase): Promise<Outcome> => {
        const [nft, legacyResult] = await Promise.all([
          restoreLoad(ns, testCase.text, { family: testCase.family, backend: 'nft' }),
          legacy ? restoreLoad(ns, testCase.text, { family: testCase.family, backend: 'legacy' }) : undefined,
        ]);
        const parsed = parse(testCase.text, { file: `${testCase.id}.rules`, family: testCase.family });
        return {
          nftAccepts: nft.ok,
          legacyAccepts: legacyResult?.ok,
          kernelStderr: [nft.stderr.trim(), legacyResult?.stderr.trim() ?? ''].filter(Boolean).join('\n'),
          parserAccepts: parsed.errors.length === 0,
          parserErrors: parsed.errors.map((error) => `${error.span.line}:${error.span.column} ${error.message}`),
        };
      });
      return { outcomes, legacy, compared };
    });

    // A dump can come from either backend, so a file is valid when either would load it.
    const rows = compared.map((testCase, index) => {
      const outcome = outcomes[index]!;
      return { ...testCase, ...outcome, kernelAccepts: outcome.nftAccepts || outcome.legacyAccepts === true };
    });
    if (process.env.DFW_RESTORE_DUMP) writeFileSync(process.env.DFW_RESTORE_DUMP, JSON.stringify(rows, null, 2));
    const backendDependent = rows.filter((row) => row.legacyAccepts !== undefined && row.legacyAccepts !== row.nftAccepts);
    const differing = rows.filter((row) => row.kernelAccepts !== row.parserAccepts);
    const documented = differing.filter((row) => DOCUMENTED[row.id] !== undefined);
    const disagreements = differing.filter((row) => DOCUMENTED[row.id] === undefined);
    console.log(`restore-agreement: ${rows.length} cases compared, ${rows.length - differing.length} agree, ${documented.length} differ as documented, ${disagreements.length} disagree`);
    console.log(
      legacy
        ? `restore-agreement: kernel = nft or legacy; ${backendDependent.length} cases load on one backend only (${backendDependent.map((row) => `${row.id}: ${row.nftAccepts ? 'nft' : 'legacy'}`).join(', ')})`
        : `restore-agreement: kernel = nft only (iptables-legacy-restore does not work here; left out: ${[...LEGACY_ONLY].join(', ')})`,
    );
    for (const row of disagreements) {
      const kernelSays = row.kernelAccepts ? 'kernel accepts' : `kernel rejects: ${firstLines(row.kernelStderr)}`;
      const parserSays = row.parserAccepts ? 'parser accepts' : `parser rejects: ${row.parserErrors[0]}`;
      console.log(`  ${row.id} [${row.family}] ${JSON.stringify(row.line)}\n    ${kernelSays}\n    ${parserSays}`);
    }
    expect(disagreements.map((row) => row.id)).toEqual([]);
    // The documented load-time cases are not let through: IPT206 reports each as an error.
    const ipt206 = builtinRules.find((r) => r.meta.id === 'IPT206')!;
    const unreported = documented
      .filter((row) => DOCUMENTED[row.id] === HOOK_CHECK)
      .filter((row) => !lintText(row.text, { rules: [ipt206], family: row.family }).findings.some((f) => f.ruleId === 'IPT206' && f.severity === 'error'));
    expect(unreported.map((row) => row.id)).toEqual([]);
  });
});
