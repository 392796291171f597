import { InvalidArgumentError } from '@danube/core';
import { CronSchedule } from './cron-schedule';

function refusal(expression: string, timeZone = 'UTC'): InvalidArgumentError {
  try {
    CronSchedule.parse(expression, timeZone);
  } catch (error) {
    return error as InvalidArgumentError;
  }
  throw new Error(`${expression} in ${timeZone} was accepted`);
}

describe('CronSchedule', () => {
  it('fires every second with six fields', () => {
    const cron = CronSchedule.parse('* * * * * *', 'UTC');
    const from = new Date('2026-01-01T00:00:00.000Z');
    const times = cron.between(from, new Date('2026-01-01T00:00:03.000Z'), 100);
    expect(times.map((t) => t.toISOString())).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
    ]);
    expect(cron.nextAfter(new Date('2026-01-01T00:00:00.400Z')).toISOString()).toBe(
      '2026-01-01T00:00:01.000Z',
    );
  });

  it('stops at max', () => {
    const cron = CronSchedule.parse('* * * * * *', 'UTC');
    const from = new Date('2026-01-01T00:00:00.000Z');
    expect(cron.between(from, new Date('2026-01-02T00:00:00.000Z'), 5)).toHaveLength(5);
  });

  it('lists the newest due times first when there are more than asked for', () => {
    const cron = CronSchedule.parse('* * * * * *', 'UTC');
    const from = new Date('2026-01-01T00:00:00.000Z');
    const until = new Date('2026-01-01T00:00:09.500Z');
    const some = cron.latestBetween(from, until, 3);
    expect(some.more).toBe(true);
    expect(some.times.map((t) => t.toISOString())).toEqual([
      '2026-01-01T00:00:07.000Z',
      '2026-01-01T00:00:08.000Z',
      '2026-01-01T00:00:09.000Z',
    ]);
    const all = cron.latestBetween(from, until, 100);
    expect(all.more).toBe(false);
    expect(all.times).toHaveLength(10);
    expect(all.times[0]!.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it("follows the time zone's clock across a daylight saving change", () => {
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer (clocks went forward
    // on 29 March 2026).
    const cron = CronSchedule.parse('0 9 * * *', 'Europe/Berlin');
    expect(cron.nextAfter(new Date('2026-03-28T12:00:00Z')).toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    expect(cron.nextAfter(new Date('2026-03-27T12:00:00Z')).toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    );
  });

  it('names the bad part of an expression', () => {
    expect(refusal('61 * * * *').message).toBe(
      'cron: the minute field "61" is invalid (Constraint error, got value 61 expected range 0-59)',
    );
    expect(refusal('0 25 * * *').message).toContain('the hour field "25" is invalid');
    expect(refusal('0 0 0 0 * *').message).toContain('the day-of-month field "0" is invalid');
    expect(refusal('* * * * * * *').message).toBe(
      'cron: "* * * * * * *" has 7 field(s); write 5 (minute hour day-of-month month day-of-week) or 6 (second first)',
    );
    expect(refusal('every day').message).toContain('has 2 field(s)');
    expect(refusal('61 * * * *').details).toEqual({ field: 'cron' });
  });

  it('refuses a time zone that does not exist, naming the field', () => {
    const error = refusal('* * * * *', 'Mars/Olympus_Mons');
    expect(error.message).toBe(
      'timeZone: "Mars/Olympus_Mons" is not a time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York',
    );
    expect(error.details).toEqual({ field: 'timeZone' });
  });
});
