import { InvalidArgumentError } from 'commander';

/**
 * Flag parsers for commander: each returns the value or throws InvalidArgumentError, which
 * commander reports as a usage error (exit 2).
 */

/** A whole number of 0 or more. */
export function count(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

/**
 * A quota: a whole number, or `none` for no limit. `none` stays a string here because
 * commander turns a parser's null into ''; noLimit() makes it the API's null.
 */
export function limit(value: string): number | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none';
  try {
    return count(value);
  } catch {
    throw new InvalidArgumentError(`expected a whole number or none, got "${value}"`);
  }
}

/** A parsed limit as the API takes it: `none` is null. */
export function noLimit(value: number | 'none'): number | null {
  return value === 'none' ? null : value;
}

/** --class-cap CLASS=N, repeatable, into a map; N may be `none` (that class has no cap). */
export function classCap(
  value: string,
  previous: Record<string, number | null> = {},
): Record<string, number | null> {
  const eq = value.indexOf('=');
  const name = value.slice(0, eq).trim();
  if (eq <= 0 || !name) {
    throw new InvalidArgumentError(`expected CLASS=N (e.g. gpu=2, or gpu=none), got "${value}"`);
  }
  try {
    return { ...previous, [name]: noLimit(limit(value.slice(eq + 1))) };
  } catch {
    throw new InvalidArgumentError(`expected CLASS=N (e.g. gpu=2, or gpu=none), got "${value}"`);
  }
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** 90m, 12h, 30d: a positive duration, in milliseconds. */
export function duration(value: string): number {
  // At most six digits, so that now + 999999d is still a date toISOString can write.
  const match = /^(\d{1,6})([mhd])$/.exec(value.trim());
  const n = match ? Number(match[1]) : 0;
  if (!match || n <= 0) {
    throw new InvalidArgumentError(
      `expected a duration like 90m, 12h or 30d (minutes, hours, days), got "${value}"`,
    );
  }
  return n * UNIT_MS[match[2]];
}

/** A point in time Date understands (2026-01-31, 2026-01-31T12:00:00Z), as ISO 8601 UTC. */
export function isoTime(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(`expected a time like 2026-01-31T12:00:00Z, got "${value}"`);
  return new Date(ms).toISOString();
}
