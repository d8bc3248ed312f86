// `-o json|yaml` for every read command; the default is a human table or tree.
import YAML from 'yaml';
import { CliError, EXIT } from './client';

export type OutputFormat = 'json' | 'yaml' | undefined;

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '' || value === 'wide') return undefined;
  if (value === 'json' || value === 'yaml') return value;
  throw new CliError(`unknown output format ${JSON.stringify(value)}: use json or yaml`, EXIT.failed);
}

/** Prints `data` as JSON or YAML and returns true, or returns false for the human form. */
export function printStructured(format: OutputFormat, data: unknown): boolean {
  if (format === 'json') console.log(JSON.stringify(data, null, 2));
  else if (format === 'yaml') process.stdout.write(YAML.stringify(data));
  else return false;
  return true;
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 3);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('')
      .trimEnd();
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
}
