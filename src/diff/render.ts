// `diff` output: text for terminals, JSON for programs, Markdown for pull
// request comments. Every change carries its witness packet and the path it
// takes through each snapshot.

import pc from 'picocolors';
import { formatStep } from '../report/text.ts';
import { safeLine } from '../report/sanitize.ts';
import { conditionsText as exposureConditionsText } from '../sim/exposure.ts';
import type { Packet } from '../sim/types.ts';
import { interfaceLabel, sourcesText, targetLabel } from './labels.ts';
import { OTHER_INTERFACE_NAME } from './reachability.ts';
import type { Change, ChangeKind, DiffResult, HostDiff, RuleEffect, WitnessWalk } from './types.ts';
import { WIDENING } from './types.ts';

export const DIFF_FORMATS = ['text', 'json', 'markdown'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

type Colors = ReturnType<typeof pc.createColors>;

const KIND_LABEL: Readonly<Record<ChangeKind, string>> = {
  'newly-reachable': 'newly reachable',
  widened: 'widened',
  narrowed: 'narrowed',
  'no-longer-reachable': 'no longer reachable',
  'now-unconditional': 'now unconditional',
  'now-conditional': 'now conditional',
};

const KIND_MARK: Readonly<Record<ChangeKind, string>> = {
  'newly-reachable': '+', widened: '+', narrowed: '-', 'no-longer-reachable': '-', 'now-unconditional': '+', 'now-conditional': '-',
};

/** "line 5 (-m recent: …), line 7 (…)". */
function conditionsText(change: Change): string {
  const conditions = change.conditions ?? [];
  return conditions.length === 0 ? 'matches the dump cannot decide' : exposureConditionsText(conditions);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function packetText(p: Packet): string {
  const at = (a: string, port?: number) => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  return `${p.proto} ${at(p.src, p.sport)} → ${at(p.dst, p.dport)} in ${p.inInterface === OTHER_INTERFACE_NAME ? 'any other interface' : p.inInterface}`;
}

function fromTo(change: Change): string {
  return `before: from ${sourcesText(change.family, change.before)}; after: from ${sourcesText(change.family, change.after)}`;
}

function headline(change: Change): string {
  const sources = sourcesText(change.family, change.sources);
  const where = `on ${interfaceLabel(change.interface)}`;
  switch (change.kind) {
    case 'newly-reachable': return `newly reachable: ${targetLabel(change.target)} ${where} from ${sources}`;
    case 'widened': return `widened: ${targetLabel(change.target)} ${where}, now also from ${sources}`;
    case 'narrowed': return `narrowed: ${targetLabel(change.target)} ${where}, no longer from ${sources}`;
    case 'no-longer-reachable': return `no longer reachable: ${targetLabel(change.target)} ${where} (was from ${sources})`;
    case 'now-unconditional':
      return `now unconditional: ${targetLabel(change.target)} ${where} from ${sources}, no longer depending on the old snapshot's ${conditionsText(change)}`;
    case 'now-conditional':
      return `now conditional: ${targetLabel(change.target)} ${where} from ${sources}, now depending on ${conditionsText(change)}`;
  }
}

function walkSummary(walk: WitnessWalk): string {
  const d = walk.decidedBy;
  if (!d) return `${walk.verdict}: ${walk.reason}`;
  const place = d.line > 0 ? `${d.table} ${d.chain} line ${d.line}` : `${d.table} ${d.chain}`;
  if (walk.verdict === 'accept') return `accept: ${walk.reason}; accepted by ${place}: ${d.rule}`;
  return walk.reason.includes(`line ${d.line}`) ? `${walk.verdict}: ${walk.reason}: ${d.rule}` : `${walk.verdict}: ${walk.reason} — ${place}: ${d.rule}`;
}

/** The walk that proves the change: the new path for a widening, the old one for a narrowing. */
function provingWalk(change: Change): { side: 'old' | 'new'; walk: WitnessWalk } | undefined {
  const side = WIDENING.has(change.kind) ? 'new' : 'old';
  const walk = change[side];
  return walk ? { side, walk } : undefined;
}

function effectLine(effect: RuleEffect): string {
  const where = effect.presence === 'both' ? `old line ${effect.oldLine}, new line ${effect.newLine}`
    : effect.presence === 'added' ? `added, new line ${effect.newLine}` : `removed, old line ${effect.oldLine}`;
  return `${effect.table} ${effect.chain}: ${effect.rule} (${where})`;
}

// ---------------------------------------------------------------- text

function hostText(host: HostDiff, c: Colors): string[] {
  const lines = [c.underline(safeLine(host.name))];
  for (const note of host.notes) lines.push(`  ${c.dim(`note: ${safeLine(note)}`)}`);
  if (host.changes.length === 0) {
    lines.push(`  ${c.dim('no change in what is reachable')}`);
    return lines;
  }
  for (const change of host.changes) {
    const widening = WIDENING.has(change.kind);
    const mark = widening ? c.red(KIND_MARK[change.kind]) : c.green(KIND_MARK[change.kind]);
    lines.push(`  ${mark} ${change.family} ${safeLine(headline(change))}`);
    lines.push(`      ${c.dim(safeLine(fromTo(change)))}`);
    lines.push(`      witness: ${safeLine(packetText(change.witness))}`);
    if (change.old) lines.push(`      old: ${safeLine(walkSummary(change.old))}`);
    if (change.new) lines.push(`      new: ${safeLine(walkSummary(change.new))}`);
    const proving = provingWalk(change);
    if (proving) {
      lines.push(`      path (${proving.side}):`);
      for (const step of proving.walk.steps) lines.push(`        ${safeLine(formatStep(step))}`);
    }
  }
  if (host.ruleEffects.length > 0) {
    lines.push('  rules whose effect changed:');
    for (const effect of host.ruleEffects) {
      lines.push(`    ${safeLine(effectLine(effect))}`);
      for (const s of effect.stoppedDeciding) lines.push(`      no longer ${safeLine(s)}`);
      for (const s of effect.startedDeciding) lines.push(`      now ${safeLine(s)}`);
    }
  }
  return lines;
}

export function summaryText(result: DiffResult): string {
  const { hostsCompared, widening, narrowing } = result.summary;
  const hosts = plural(hostsCompared, 'host');
  if (widening + narrowing === 0) return `✔ no change in what is reachable (${hosts} compared)`;
  const parts = [`${plural(widening, 'change')} widen${widening === 1 ? 's' : ''}`, `${narrowing} narrow${narrowing === 1 ? 's' : ''}`];
  return `${result.widened ? '✖ reachability widened' : '✔ reachability only narrowed'}: ${parts.join(', ')} (${hosts} compared)`;
}

export function diffText(result: DiffResult, color: boolean): string {
  const c = pc.createColors(color);
  const out: string[] = [];
  for (const host of result.hosts) {
    if (host.changes.length === 0 && host.notes.length === 0) continue;
    out.push(...hostText(host, c), '');
  }
  const summary = summaryText(result);
  out.push(result.widened ? c.red(c.bold(summary)) : c.green(summary));
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- json

function walkJson(walk: WitnessWalk) {
  return {
    verdict: walk.verdict,
    reason: walk.reason,
    ...(walk.decidedBy ? { decidedBy: walk.decidedBy } : {}),
    path: walk.steps.map((s) => ({
      hook: s.hook, table: s.table, chain: s.chain, file: s.file, line: s.line, rule: s.rule, matched: s.matched, action: s.action,
      ...(s.rewrite !== undefined ? { rewrite: s.rewrite } : {}),
    })),
  };
}

export function diffJson(result: DiffResult): string {
  const document = {
    version: 1,
    widened: result.widened,
    summary: result.summary,
    hosts: result.hosts.map((h) => ({
      name: h.name,
      oldFiles: h.oldFiles,
      newFiles: h.newFiles,
      notes: h.notes,
      changes: h.changes.map((c) => ({
        kind: c.kind,
        widens: WIDENING.has(c.kind),
        family: c.family,
        category: c.target.category,
        target: c.target,
        interface: c.interface,
        sources: c.sources,
        before: c.before,
        after: c.after,
        ...(c.conditions ? { conditions: c.conditions } : {}),
        witness: c.witness,
        ...(c.old ? { old: walkJson(c.old) } : {}),
        ...(c.new ? { new: walkJson(c.new) } : {}),
      })),
      ruleEffects: h.ruleEffects,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

// ---------------------------------------------------------------- markdown

/** Text in a Markdown table cell or paragraph: no HTML, no table breaks, no accidental emphasis. */
export function mdText(text: string): string {
  return safeLine(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_[\]|~#])/g, '\\$1');
}

/** A code span that survives any backticks inside it; pipes are escaped for tables. */
export function mdCode(text: string): string {
  const line = safeLine(text);
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const padded = line.startsWith('`') || line.endsWith('`') ? ` ${line} ` : line;
  return `${fence}${padded.replace(/\|/g, '\\|')}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside. */
export function mdFence(lines: readonly string[], info = 'text'): string {
  const body = lines.map(safeLine);
  const longest = Math.max(2, ...body.flatMap((l) => [...l.matchAll(/`+/g)].map((m) => m[0].length)));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, ...body, fence].join('\n');
}

const KIND_ICON: Readonly<Record<ChangeKind, string>> = {
  'newly-reachable': '🔴', widened: '🟠', narrowed: '🟢', 'no-longer-reachable': '🟢', 'now-unconditional': '🟠', 'now-conditional': '🟢',
};

/** Detail levels, most first: each drops what a long diff can least afford. */
type MarkdownDetail = 'full' | 'no-paths' | 'tables';

function hostMarkdown(host: HostDiff, detail: MarkdownDetail): string[] {
  const out = [`### ${mdText(host.name)}`, ''];
  for (const note of host.notes) out.push(`> ${mdText(note)}`, '');
  if (host.changes.length === 0) {
    out.push('No change in what is reachable.', '');
    return out;
  }
  out.push('| | change | family | target | interface | sources | before | after |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of host.changes) {
    const list = (cidrs: readonly string[]) => mdText(sourcesText(c.family, cidrs));
    out.push(`| ${KIND_ICON[c.kind]} | ${KIND_LABEL[c.kind]} | ${c.family} | ${mdText(targetLabel(c.target))} | ${mdText(interfaceLabel(c.interface))} | ${list(c.sources)} | ${list(c.before)} | ${list(c.after)} |`);
  }
  out.push('');
  for (const c of detail === 'full' ? host.changes : []) {
    const proving = provingWalk(c);
    out.push('<details>', `<summary>${mdText(headline(c))}</summary>`, '');
    out.push(`Witness: ${mdCode(packetText(c.witness))}`, '');
    if (c.old) out.push(`- old: ${mdText(walkSummary(c.old))}`);
    if (c.new) out.push(`- new: ${mdText(walkSummary(c.new))}`);
    if (proving) out.push('', `Path (${proving.side} snapshot):`, '', mdFence(proving.walk.steps.map(formatStep)));
    out.push('', '</details>', '');
  }
  if (host.ruleEffects.length > 0 && detail !== 'tables') {
    out.push('**Rules whose effect changed**', '', '| rule | where | no longer | now |', '| --- | --- | --- | --- |');
    for (const e of host.ruleEffects) {
      const where = e.presence === 'both' ? `old line ${e.oldLine}, new line ${e.newLine}` : e.presence === 'added' ? `added (new line ${e.newLine})` : `removed (old line ${e.oldLine})`;
      out.push(`| ${e.table} ${mdText(e.chain)}: ${mdCode(e.rule)} | ${where} | ${e.stoppedDeciding.map(mdText).join('<br>') || '—'} | ${e.startedDeciding.map(mdText).join('<br>') || '—'} |`);
    }
    out.push('');
  }
  return out;
}

/** GitHub refuses comments over 65,536 characters; leave room for a caller's own text. */
export const MARKDOWN_BUDGET = 60_000;

function markdownAt(result: DiffResult, detail: MarkdownDetail): string {
  const title = result.widened ? '## ✖ dockfw-lint diff: reachability widened' : '## ✔ dockfw-lint diff: reachability did not widen';
  const out = [title, '', mdText(summaryText(result).replace(/^[✔✖] /, '')), ''];
  if (detail !== 'full') out.push(`> Long diff: ${detail === 'no-paths' ? 'packet paths' : 'packet paths and rule effects'} left out here; \`dockfw-lint diff\` (text or json) shows them all.`, '');
  for (const host of result.hosts) {
    if (host.changes.length === 0 && host.notes.length === 0) continue;
    out.push(...hostMarkdown(host, detail));
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Markdown for a pull request comment: as much detail as fits GitHub's comment size, then cut at a line. */
export function diffMarkdown(result: DiffResult, budget = MARKDOWN_BUDGET): string {
  for (const detail of ['full', 'no-paths', 'tables'] as const) {
    const text = markdownAt(result, detail);
    if (text.length <= budget) return text;
  }
  const text = markdownAt(result, 'tables');
  const cut = text.lastIndexOf('\n', budget - 200);
  return `${text.slice(0, cut)}\n\n… cut to fit a comment: \`dockfw-lint diff --format json\` has every change.\n`;
}
