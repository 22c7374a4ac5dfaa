// Diagnostics the engine itself produces (DFW0xx and DFW9xx): parse errors,
// suppression hygiene and rule crashes. They have ids, names and docs like any
// rule, so config, SARIF and `--explain` treat them alike; their `check` does
// nothing because the engine reports them.

import type { LintRule, RuleMeta } from './types.ts';

type EngineMessage = 'default';

function engineRule(meta: Omit<RuleMeta<EngineMessage>, 'messages'> & { readonly message: string }): LintRule<EngineMessage> {
  const { message, ...rest } = meta;
  return { meta: { ...rest, messages: { default: message } }, check: () => undefined };
}

export const PARSE_ERROR = engineRule({
  id: 'DFW000',
  name: 'parse-error',
  severity: 'error',
  summary: 'The input is not a valid iptables-save document.',
  description:
    'The line could not be parsed the way iptables-restore would read it. iptables-restore refuses such a file as a whole, '
    + 'so dockfw-lint does not lint it either: fix the line first. Parse errors always make dockfw-lint exit with code 2.',
  tags: ['syntax'],
  message: '{message}',
});

export const UNUSED_SUPPRESSION = engineRule({
  id: 'DFW001',
  name: 'unused-suppression',
  severity: 'warning',
  summary: 'A suppression that suppresses nothing.',
  description:
    'A `# dockfw-lint ignore=…` line, an iptables comment `dockfw-lint ignore=…` or a config suppression names a rule that reports '
    + 'nothing where the suppression applies. Stale suppressions hide the next real finding at that place: remove them.',
  tags: ['suppressions'],
  message: 'unused suppression of {rules}: {where}',
});

export const SUPPRESSION_WITHOUT_REASON = engineRule({
  id: 'DFW002',
  name: 'suppression-without-reason',
  severity: 'warning',
  summary: 'An inline suppression gives no reason.',
  description:
    'Write why a finding is acceptable after ` -- `, e.g. `# dockfw-lint ignore=DFW106 -- public web server`. '
    + 'The suppression still applies; the reason is what a reviewer reads a year later.',
  tags: ['suppressions'],
  message: 'suppression of {rules} has no reason: add " -- why this is fine"',
});

export const EXPIRED_SUPPRESSION = engineRule({
  id: 'DFW003',
  name: 'expired-suppression',
  severity: 'warning',
  summary: 'A config suppression is past its expiry date.',
  description:
    'A suppression in the config file has an `expires` date in the past. It no longer applies, so the findings it covered '
    + 'are reported again. Fix them, or renew the suppression with a new date and reason.',
  tags: ['suppressions'],
  message: 'suppression of {rules} expired on {expires} and no longer applies ({reason})',
});

export const INVALID_SUPPRESSION = engineRule({
  id: 'DFW004',
  name: 'invalid-suppression',
  severity: 'warning',
  summary: 'A suppression comment that cannot be understood.',
  description:
    'A comment starting with `dockfw-lint` is not of the form `dockfw-lint ignore=ID[,ID…] -- reason` (or `global ignore=`), '
    + 'or names a rule that does not exist. It suppresses nothing.',
  tags: ['suppressions'],
  message: '{problem}',
});

export const STALE_BASELINE_ENTRY = engineRule({
  id: 'DFW005',
  name: 'stale-baseline-entry',
  severity: 'warning',
  summary: 'A baseline entry that matches no finding any more.',
  description:
    'The baseline given with `--baseline FILE` accepts a finding that this run no longer reports: the rule was fixed, '
    + 'changed its meaning, or the host file is gone. A stale entry would silently accept the next finding that happens to '
    + 'get the same fingerprint: remove it, or rewrite the baseline with `--write-baseline FILE`. Set this rule to "error" '
    + 'to make a CI gate insist on a tidy baseline.',
  tags: ['baseline'],
  message: 'baseline entry for {rule} in {file} matches no finding any more ({subject}): remove it or rewrite the baseline',
});

export const INTERNAL_ERROR = engineRule({
  id: 'DFW900',
  name: 'internal-error',
  severity: 'error',
  summary: 'A rule crashed: a bug in dockfw-lint or in a plugin.',
  description:
    'The rule threw an exception instead of reporting. Its other findings for this host may be missing. '
    + 'Please report it with the input that triggers it. dockfw-lint exits with code 2 when this happens.',
  tags: ['internal'],
  message: 'internal error in rule {rule} ({ruleName}): {error}',
});

/** In id order. */
export const ENGINE_RULES: readonly LintRule[] = [
  PARSE_ERROR, UNUSED_SUPPRESSION, SUPPRESSION_WITHOUT_REASON, EXPIRED_SUPPRESSION, INVALID_SUPPRESSION, STALE_BASELINE_ENTRY, INTERNAL_ERROR,
];
