// The output formats by name.

import { formatGithub } from './github.ts';
import { formatJson } from './json.ts';
import { formatJunit } from './junit.ts';
import { formatSarif } from './sarif.ts';
import { formatText } from './text.ts';
import type { Format, Reporter } from './types.ts';

export const REPORTERS: Readonly<Record<Format, Reporter>> = {
  text: formatText,
  json: (report) => formatJson(report),
  sarif: (report) => formatSarif(report),
  github: (report) => formatGithub(report),
  junit: (report) => formatJunit(report),
};

/** Formats a machine reads: stdout holds only the document, never colour. */
export function isMachineFormat(format: Format): boolean {
  return format !== 'text';
}

export { FORMATS, type Format, type LintReport, type ReportOptions, type ToolInfo } from './types.ts';
