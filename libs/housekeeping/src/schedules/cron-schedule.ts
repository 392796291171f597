import { CronExpressionParser } from 'cron-parser';
import { InvalidArgumentError } from '@danube/core';

const FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
const FIELDS_WITH_SECONDS = ['second', ...FIELDS];

/**
 * A cron expression in a time zone: the times a schedule fires at. Five fields (minute
 * first) or six (second first), parsed by cron-parser; times follow the zone's clock,
 * daylight saving included.
 */
export class CronSchedule {
  private constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {}

  /**
   * Checks both and throws InvalidArgumentError naming the field (`cronField`,
   * `timeZoneField`) and, for a bad expression, the part of it that is wrong.
   */
  static parse(
    expression: string,
    timeZone: string,
    { cronField = 'cron', timeZoneField = 'timeZone' } = {},
  ): CronSchedule {
    if (!isTimeZone(timeZone)) {
      throw new InvalidArgumentError(
        `${timeZoneField}: "${timeZone}" is not a time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York`,
        { field: timeZoneField },
      );
    }
    const parts = expression.trim().split(/\s+/);
    if (parts.length !== 5 && parts.length !== 6) {
      throw new InvalidArgumentError(
        `${cronField}: "${expression}" has ${parts.length} field(s); write 5 (${FIELDS.join(' ')}) or 6 (second first)`,
        { field: cronField },
      );
    }
    const problem = parseProblem(parts.join(' '), timeZone);
    if (problem !== null) {
      throw new InvalidArgumentError(`${cronField}: ${whichPart(parts, timeZone, problem)}`, {
        field: cronField,
      });
    }
    return new CronSchedule(parts.join(' '), timeZone);
  }

  /** The first fire time after `after` (strictly). */
  nextAfter(after: Date): Date {
    return this.iterate(after).next().toDate();
  }

  /** Fire times t with from <= t <= until, oldest first, at most `max` of them. */
  between(from: Date, until: Date, max: number): Date[] {
    const times: Date[] = [];
    const iterator = this.iterate(new Date(from.getTime() - 1));
    while (times.length < max) {
      const next = iterator.next().toDate();
      if (next > until) break;
      times.push(next);
    }
    return times;
  }

  /**
   * The newest fire times t with from <= t <= until, at most `max`, oldest first; `more`
   * when older ones in the range were left out.
   */
  latestBetween(from: Date, until: Date, max: number): { times: Date[]; more: boolean } {
    const times: Date[] = [];
    const iterator = this.iterate(new Date(until.getTime() + 1));
    for (;;) {
      const previous = iterator.prev().toDate();
      if (previous < from) return { times: times.reverse(), more: false };
      if (times.length === max) return { times: times.reverse(), more: true };
      times.push(previous);
    }
  }

  private iterate(after: Date) {
    return CronExpressionParser.parse(this.expression, { tz: this.timeZone, currentDate: after });
  }
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}

function parseProblem(expression: string, timeZone: string): string | null {
  try {
    CronExpressionParser.parse(expression, { tz: timeZone }).next();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The field at fault, found by checking each one alone (the others made `*`). */
function whichPart(parts: string[], timeZone: string, problem: string): string {
  const names = parts.length === 6 ? FIELDS_WITH_SECONDS : FIELDS;
  for (const [i, part] of parts.entries()) {
    const alone = parts.map((p, j) => (j === i ? p : '*')).join(' ');
    const own = parseProblem(alone, timeZone);
    if (own !== null) return `the ${names[i]} field "${part}" is invalid (${own})`;
  }
  return `"${parts.join(' ')}" is invalid (${problem})`;
}
