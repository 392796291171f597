import { KEPT, promises, runChaos } from './run-chaos';

/**
 * The chaos suite's database faults at CI size: losing Postgres is an outage, not a crash.
 * No executor dies, no acknowledged job is lost, every attempt keeps its record.
 */
it('(c) Postgres restarted fast, then immediate, while jobs run', async () => {
  const result = await runChaos('c');
  expect(promises(result)).toEqual(KEPT);
  expect(result.jobs).toBeGreaterThanOrEqual(600);
  expect(result.succeeded).toBe(result.jobs);
  expect(result.notes).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/restarted \(fast\)/),
      expect.stringMatching(/restarted \(immediate\)/),
    ]),
  );
}, 600_000);

it('(d) every connection terminated twice while jobs run', async () => {
  const result = await runChaos('d');
  expect(promises(result)).toEqual(KEPT);
  expect(result.jobs).toBeGreaterThanOrEqual(600);
  expect(result.succeeded).toBe(result.jobs);
  expect(result.notes.filter((n) => /terminated [1-9]\d* backends/.test(n))).toHaveLength(2);
}, 600_000);
