// Text from rulesets (comments, interface names, file names) reaches terminals
// and CI logs: control characters and bidirectional overrides are shown as
// visible escapes so they cannot recolour, move the cursor or reorder text.

// C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Neutralises terminal escapes; keeps newlines and tabs. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** As safeText, and newlines too: for one-line fields. */
export function safeLine(text: string): string {
  return safeText(text).replace(/\r?\n|\r/g, '\\n').replace(/\t/g, ' ');
}
