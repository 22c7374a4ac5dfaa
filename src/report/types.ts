// What every reporter receives: the checked files, the findings, the errors of
// files that could not be read or parsed, and the rules that ran.

import type { ParseError } from '../../grammar/ast.ts';
import type { Finding, LintRule } from '../engine/types.ts';

export interface ToolInfo {
  readonly name: string;
  readonly version: string;
  readonly informationUri: string;
}

export interface LintReport {
  readonly tool: ToolInfo;
  /** Display paths (relative to the working directory, POSIX), sorted. */
  readonly files: readonly string[];
  /** Sorted by file, line, column, rule id. */
  readonly findings: readonly Finding[];
  /** Unreadable or unparseable input, sorted by file and position. */
  readonly errors: readonly ParseError[];
  /** Rules that ran (plus the engine's own), sorted by id: SARIF's rule table, JUnit's test cases. */
  readonly rules: readonly LintRule[];
  /** Findings hidden by suppressions. */
  readonly suppressed: number;
  /** Findings a baseline accepted (present only when a baseline was used; they are not in `findings`). */
  readonly baselined?: number;
}

export interface ReportOptions {
  readonly color: boolean;
  /** `--quiet`: a clean run prints nothing in human formats. */
  readonly quiet?: boolean;
}

export type Reporter = (report: LintReport, options: ReportOptions) => string;

export const FORMATS = ['text', 'json', 'sarif', 'github', 'junit'] as const;
export type Format = (typeof FORMATS)[number];
