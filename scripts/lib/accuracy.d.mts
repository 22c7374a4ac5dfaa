// Types for accuracy.mjs (plain JavaScript so node scripts can import it without a build step).

export interface Label {
  readonly rule: string;
  readonly line: number;
  readonly alternativeLines?: readonly number[];
  readonly what: string;
  readonly note?: string;
}

export interface LabelledFile {
  readonly host?: string;
  readonly findings: readonly Label[];
  readonly notes?: readonly string[];
}

export interface ToolFinding {
  readonly ruleId: string;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface Match {
  readonly file: string;
  readonly rule: string;
  readonly line: number;
  readonly label?: Label;
  readonly finding?: ToolFinding;
}

export interface Matched {
  readonly tp: Match[];
  readonly fp: Match[];
  readonly fn: Match[];
  readonly engine: ToolFinding[];
  readonly unlabelled: ToolFinding[];
}

export interface Row {
  readonly rule: string;
  readonly name: string;
  readonly registered: boolean;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number | null;
  readonly recall: number | null;
}

export declare const CATALOG: Readonly<Record<string, string>>;
export declare function isEngineCode(ruleId: string): boolean;
export declare function matchFile(file: string, labels: readonly Label[], findings: readonly Pick<ToolFinding, 'ruleId' | 'line' | 'message'>[]): { tp: Match[]; fp: Match[]; fn: Match[] };
export declare function matchAll(labelledFiles: Readonly<Record<string, LabelledFile>>, findings: readonly ToolFinding[]): Matched;
export declare function tabulate(matched: Matched, registered?: readonly string[]): { rows: Row[]; total: Omit<Row, 'rule' | 'name' | 'registered'> };
export declare function percent(value: number | null): string;
