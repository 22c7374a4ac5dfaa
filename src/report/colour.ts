// Whether human output gets colour. Decided here, explicitly, and handed to
// picocolors.createColors: picocolors' own detection turns colour on whenever
// CI is set (even when piped), treats FORCE_COLOR=0 as "on", and only looks at stdout.

export interface ColourInputs {
  /** `--color` (true) / `--no-color` (false) / neither. */
  readonly flag?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The destination stream is a terminal (false for --output-file). */
  readonly isTTY: boolean;
}

export function decideColour({ flag, env, isTTY }: ColourInputs): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  // Node's meaning: '', '1', '2', '3', 'true' force colour on; any other value (e.g. '0', 'false') forces it off.
  if (force !== undefined) return force === '' || force === '1' || force === '2' || force === '3' || force === 'true';
  return isTTY && env.TERM !== 'dumb';
}
