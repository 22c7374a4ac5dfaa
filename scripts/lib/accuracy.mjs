// Matching findings against corpus/labels.json, and the per-rule table: shared by
// scripts/accuracy.mjs (the report) and test/accuracy.test.ts (the matcher's own tests).
// Pure functions over plain data; no file or process access here.

/** The public catalog (issue 4), with names for rules that are not registered yet. */
export const CATALOG = Object.freeze({
  DFW101: 'input-rule-misses-published-port',
  DFW102: 'forward-rule-after-docker',
  DFW103: 'docker-user-matches-host-port',
  DFW104: 'docker-user-rule-after-return',
  DFW105: 'docker-user-drops-replies',
  DFW106: 'published-port-open-to-world',
  DFW107: 'published-loopback-port-reachable',
  DFW108: 'container-reachable-by-direct-routing',
  DFW109: 'ipv6-unrestricted',
  DFW110: 'ufw-rule-misses-published-port',
  DFW111: 'docker-api-exposed',
  DFW112: 'docker-chain-edited',
  DFW113: 'docker-user-not-first',
  DFW114: 'docker-chains-missing',
  IPT201: 'undefined-chain-target',
  IPT202: 'unused-chain',
  IPT203: 'chain-loop',
  IPT204: 'shadowed-rule',
  IPT205: 'redundant-rule',
  IPT206: 'target-wrong-table',
  IPT207: 'port-without-protocol',
  IPT208: 'module-option-without-match',
  IPT209: 'deprecated-state-match',
  IPT210: 'permissive-default-policy',
  IPT211: 'iptables-backend-mix',
  IPT212: 'jump-depth-exceeds-nf-tables',
});

/** Parse errors, suppression hygiene and crashes: the engine's, never labelled, never scored. */
export function isEngineCode(ruleId) {
  return /^DFW[09]\d\d$/.test(ruleId);
}

/**
 * Matches one file's findings against its labels, rule by rule. A label is met by a finding
 * of its rule on its line, or failing that on one of its alternativeLines; each finding meets
 * at most one label. Exact lines are matched first so that an alternative never steals the
 * finding another label names exactly.
 *
 * @param {string} file
 * @param {ReadonlyArray<{rule: string, line: number, alternativeLines?: number[], what: string}>} labels
 * @param {ReadonlyArray<{ruleId: string, line: number, message: string}>} findings  engine codes already removed
 * @returns {{tp: object[], fp: object[], fn: object[]}}
 */
export function matchFile(file, labels, findings) {
  const unused = findings.map((finding, index) => ({ finding, index }));
  const open = [];
  const tp = [];
  const take = (label, lines) => {
    const at = unused.findIndex(({ finding }) => finding.ruleId === label.rule && lines.includes(finding.line));
    if (at < 0) return false;
    tp.push({ file, rule: label.rule, line: unused[at].finding.line, label, finding: unused[at].finding });
    unused.splice(at, 1);
    return true;
  };
  for (const label of labels) if (!take(label, [label.line])) open.push(label);
  const fn = [];
  for (const label of open) {
    if (!take(label, label.alternativeLines ?? [])) fn.push({ file, rule: label.rule, line: label.line, label });
  }
  const fp = unused.map(({ finding }) => ({ file, rule: finding.ruleId, line: finding.line, finding }));
  return { tp, fp, fn };
}

/**
 * @param {Record<string, {findings: object[]}>} labelledFiles  labels.json's `files`
 * @param {ReadonlyArray<{ruleId: string, file: string, line: number, message: string}>} findings  the tool's, all files
 */
export function matchAll(labelledFiles, findings) {
  const byFile = new Map();
  const engine = [];
  const unlabelled = [];
  for (const finding of findings) {
    if (isEngineCode(finding.ruleId)) engine.push(finding);
    else if (!(finding.file in labelledFiles)) unlabelled.push(finding);
    else byFile.set(finding.file, [...(byFile.get(finding.file) ?? []), finding]);
  }
  const result = { tp: [], fp: [], fn: [], engine, unlabelled };
  for (const [file, entry] of Object.entries(labelledFiles)) {
    const one = matchFile(file, entry.findings, byFile.get(file) ?? []);
    result.tp.push(...one.tp);
    result.fp.push(...one.fp);
    result.fn.push(...one.fn);
  }
  const order = (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
  result.tp.sort(order);
  result.fp.sort(order);
  result.fn.sort(order);
  return result;
}

function ratio(numerator, denominator) {
  return denominator === 0 ? null : numerator / denominator;
}

/**
 * One row per rule that is registered, labelled or reported, sorted by id, plus the totals.
 * precision = TP / (TP + FP), recall = TP / (TP + FN); null when undefined (nothing reported,
 * nothing expected).
 */
export function tabulate(matched, registered = []) {
  const ids = new Set([...registered.filter((id) => !isEngineCode(id)), ...matched.tp.map((m) => m.rule), ...matched.fp.map((m) => m.rule), ...matched.fn.map((m) => m.rule)]);
  const rows = [...ids].sort().map((rule) => {
    const tp = matched.tp.filter((m) => m.rule === rule).length;
    const fp = matched.fp.filter((m) => m.rule === rule).length;
    const fn = matched.fn.filter((m) => m.rule === rule).length;
    return { rule, name: CATALOG[rule] ?? '', registered: registered.includes(rule), tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) };
  });
  const tp = matched.tp.length;
  const fp = matched.fp.length;
  const fn = matched.fn.length;
  return { rows, total: { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) } };
}

export function percent(value) {
  return value === null ? '—' : `${(value * 100).toFixed(1)}%`;
}
