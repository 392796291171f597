import Table from 'cli-table3';

/** Prints `value` as JSON (--json) or as the human rendering `human` makes. */
export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

/** A plain table: a header row and rows of cells. */
export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows)
    t.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  return t.toString();
}

/** "2026-11-24T10:00:00.000Z" -> "10:00:00"; empty for null. */
export function time(value: string | null | undefined): string {
  return value ? new Date(value).toISOString().slice(11, 19) : '';
}

/** "2026-11-24T10:00:00.000Z" -> "2026-11-24 10:00:00", for what spans days; empty for null. */
export function dateTime(value: string | null | undefined): string {
  return value ? new Date(value).toISOString().slice(0, 19).replace('T', ' ') : '';
}

export const STATUS_MARK: Record<string, string> = {
  blocked: '[wait]',
  queued: '[queued]',
  claimed: '[claimed]',
  running: '[run]',
  succeeded: '[ok]',
  failed: '[FAIL]',
  timed_out: '[TIMEOUT]',
  cancelled: '[cancelled]',
  skipped: '[skip]',
};
