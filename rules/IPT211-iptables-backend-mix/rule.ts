// IPT211 iptables-backend-mix: iptables-nft-save's "# Warning:
// iptables-legacy tables present, use iptables-legacy-save to see them". The
// host has rules in the legacy x_tables *and* in nf_tables, the kernel runs
// both, and this dump shows only the nf_tables half.

import type { Ruleset } from '../../grammar/ast.ts';
import { defineRule } from '../../src/engine/types.ts';

const WARNING = /^#\s*Warning: iptables-legacy tables present/;

/** Every table with no rules, no user chains and ACCEPT policies: restoring it empties the legacy side. */
const EMPTY_TABLES = [
  '*raw', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT',
  '*mangle', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', 'COMMIT',
  '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', 'COMMIT',
  '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT',
].join('\\n') + '\\n';

export default defineRule<'legacyTablesPresent'>({
  meta: {
    id: 'IPT211',
    name: 'iptables-backend-mix',
    severity: 'warning',
    summary: 'The dump says iptables-legacy tables are present too: two rulesets apply, and this file shows one of them.',
    description:
      'iptables-nft-save prints "# Warning: iptables-legacy tables present" when the legacy x_tables also hold rules. '
      + 'The kernel evaluates both: a packet passes only if both let it through, and NAT or marks from either apply. The '
      + 'rules in this file are therefore not the whole firewall, and every analysis of it (by this tool or by a person) '
      + 'misses the other half — typically Docker or an old script writing with iptables-legacy while ufw, firewalld or '
      + 'the admin use iptables-nft, or the reverse.',
    tags: ['security', 'iptables'],
    messages: {
      legacyTablesPresent:
        'This host also has iptables-legacy tables: the kernel runs them next to the nf_tables rules in this dump, so '
        + 'this file is not the whole firewall ({family} rules that drop, accept or NAT may be missing from it). '
        + 'Inspect them with {legacySave}, move what you need into one backend (the one Docker uses: `update-alternatives '
        + '--display iptables`), then empty the legacy tables (the fix saves them first, then restores empty tables with '
        + 'ACCEPT policies — not while Docker itself still writes to iptables-legacy).',
    },
    options: { type: 'object', properties: {}, additionalProperties: false },
    defaultOptions: {},
  },
  check(context) {
    for (const view of context.host.views) {
      const ruleset: Ruleset = view.ruleset;
      if (!ruleset.legacyTablesWarning) continue;
      const comment = ruleset.comments.find((c) => WARNING.test(c.text));
      const v6 = ruleset.family === 'ipv6';
      const legacy = v6 ? 'ip6tables-legacy' : 'iptables-legacy';
      const save = `${legacy}-save`;
      context.report({
        at: comment?.span ?? { file: ruleset.file, line: ruleset.startLine, column: 1, endColumn: 1 },
        messageId: 'legacyTablesPresent',
        data: { family: v6 ? 'IPv6' : 'IPv4', legacySave: save },
        fix: `${save} > /root/${legacy}-rules.txt && printf '${EMPTY_TABLES}' | ${legacy}-restore`,
      });
    }
  },
});
