// Small helpers shared by the benchmark sections: statistics, units and a plain-text table.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** { median, min, max } of a list of numbers. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export const fmt = {
  ms: (value) => (value == null ? '–' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 0)} ms`),
  mb: (bytes) => (bytes == null ? '–' : `${(bytes / 1e6).toFixed(2)} MB`),
  int: (value) => (value == null ? '–' : value.toLocaleString('en-US')),
  ratio: (value) => (value == null ? '–' : `${value.toFixed(2)}×`),
  rate: (value) => (value == null ? '–' : `${value.toFixed(1)} MB/s`),
  text: (value) => (value == null ? '–' : String(value)),
};

/**
 * Renders rows as an aligned text table. columns: [{ key, label, format?, align? }];
 * `format` turns the row's value into text (default: fmt.text), numbers align right.
 */
export function renderTable(columns, rows) {
  const cells = rows.map((row) => columns.map(({ key, format = fmt.text }) => format(row[key], row)));
  const widths = columns.map(({ label }, i) => Math.max(label.length, ...cells.map((line) => line[i].length)));
  const alignRight = columns.map(({ align }, i) => align === 'right' || (align !== 'left' && rows.some((row) => typeof row[columns[i].key] === 'number')));
  const line = (values) => values.map((value, i) => (alignRight[i] ? value.padStart(widths[i]) : value.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map(({ label }) => label)), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}

/**
 * A benchmark target. `value` null means it could not be measured (reason says why).
 * Returned objects go to the report and the JSON line as they are.
 */
export function target(name, value, limit, { unit = '', reason } = {}) {
  const status = value == null ? 'SKIP' : value <= limit ? 'PASS' : 'MISS';
  return { name, value, limit, unit, status, ...(value == null && reason ? { reason } : {}) };
}
