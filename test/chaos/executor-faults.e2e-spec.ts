import { RECOVERY_LIMIT_SECONDS } from '../../chaos/src/checks';
import { KEPT, promises, runChaos } from './run-chaos';

/**
 * The chaos suite's executor faults at CI size (npm run chaos runs them bigger): every
 * acknowledged job ends succeeded, every attempt that ran has its record, no two attempts
 * of a job overlap, and a lost executor's jobs start elsewhere within lease + 5 s.
 */
it('(b) SIGKILL loop: 8 executors killed under load', async () => {
  const result = await runChaos('b');
  expect(promises(result)).toEqual(KEPT);
  // 600, and more while the faults go on (see Workload.submitAll).
  expect(result.jobs).toBeGreaterThanOrEqual(600);
  expect(result.succeeded).toBe(result.jobs);
  expect(result.recoverySeconds).not.toBeNull();
  expect(result.recoverySeconds!).toBeLessThanOrEqual(RECOVERY_LIMIT_SECONDS);
}, 600_000);

it('(e) SIGSTOP of an executor past its lease: its jobs die before the takeover, and it writes nothing into them after', async () => {
  const result = await runChaos('e');
  expect(promises(result)).toEqual(KEPT);
  expect(result.succeeded).toBe(result.jobs);
  expect(result.recoverySeconds).not.toBeNull();
  expect(result.recoverySeconds!).toBeLessThanOrEqual(RECOVERY_LIMIT_SECONDS);
}, 600_000);
