// Validators every output is checked with: the JSON output schema, the
// official SARIF 2.1.0 schema, and XML well-formedness for JUnit.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import * as ajvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

const here = new URL('.', import.meta.url);
const outputSchema = JSON.parse(readFileSync(new URL('../../schemas/output.schema.json', here), 'utf8'));
// The official SARIF 2.1.0 schema (sarif-2.1.0-rtm.5), vendored from the npm package @microsoft/jest-sarif (MIT).
const sarifSchema = JSON.parse(readFileSync(new URL('./sarif-2.1.0-rtm.5.json', here), 'utf8'));

const validateOutput = new Ajv({ allErrors: true, strict: true }).compile(outputSchema);
const draft04 = new ajvDraft04.default.default({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(draft04 as never);
const validateSarif = draft04.compile(sarifSchema);

export function expectValidJson(text: string): void {
  const ok = validateOutput(JSON.parse(text));
  expect(validateOutput.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

export function expectValidSarif(text: string): void {
  const ok = validateSarif(JSON.parse(text));
  expect(validateSarif.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

/** Minimal XML well-formedness: balanced elements, quoted attributes, escaped text, no forbidden characters. */
export function expectWellFormedXml(xml: string): void {
  expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  const body = xml.replace(/^<\?xml [^?]*\?>\n/, '');
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    if (m[5] !== undefined) {
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
      expect(m[5]).not.toContain('>');
      continue;
    }
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]!);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
}

