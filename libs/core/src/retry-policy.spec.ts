import { DEFAULT_BACKOFF } from './job';
import { backoffDelayMs, categorise, judgeAttempt, type RetryContext } from './retry-policy';

const policy = { initialSeconds: 1, factor: 2, maxSeconds: 30 };
const context = (over: Partial<RetryContext> = {}): RetryContext => ({
  attempts: 1,
  maxAttempts: 3,
  backoff: policy,
  noRetryExitCodes: [],
  ...over,
});
const now = new Date('2030-01-01T00:00:00Z');

describe('backoffDelayMs', () => {
  it('doubles per attempt, between half and all of the exponential delay', () => {
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(1000);
    expect(backoffDelayMs(policy, 2, () => 0)).toBe(1000);
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(4000);
  });

  it('is capped at maxSeconds', () => {
    expect(backoffDelayMs(policy, 20, () => 1)).toBe(30_000);
    expect(backoffDelayMs(policy, 20, () => 0)).toBe(15_000);
  });

  it('keeps gaps growing whatever the jitter when factor >= 2', () => {
    for (let attempt = 1; attempt < 5; attempt++) {
      expect(backoffDelayMs(policy, attempt + 1, () => 0)).toBeGreaterThanOrEqual(
        backoffDelayMs(policy, attempt, () => 1),
      );
    }
  });

  it('has a sane default', () => {
    expect(backoffDelayMs(DEFAULT_BACKOFF, 1, () => 1)).toBe(1000);
  });
});

describe('judgeAttempt', () => {
  it('succeeds on success', () => {
    expect(judgeAttempt(context(), { kind: 'succeeded', exitCode: 0 }, now)).toEqual({
      status: 'succeeded',
    });
  });

  it('queues a retry after a transient failure while attempts remain', () => {
    const verdict = judgeAttempt(
      context(),
      { kind: 'failed', category: 'transient', exitCode: 3, message: 'x' },
      now,
      () => 1,
    );
    expect(verdict).toEqual({
      status: 'queued',
      category: 'transient',
      retryAt: new Date(now.getTime() + 1000),
    });
  });

  it('fails for good when attempts are used up', () => {
    const verdict = judgeAttempt(
      context({ attempts: 3 }),
      { kind: 'failed', category: 'transient', exitCode: 3, message: 'x' },
      now,
    );
    expect(verdict).toEqual({ status: 'failed', category: 'transient' });
  });

  it('never retries a permanent error', () => {
    const verdict = judgeAttempt(
      context(),
      { kind: 'failed', category: 'permanent', message: 'bad spec' },
      now,
    );
    expect(verdict).toEqual({ status: 'failed', category: 'permanent' });
  });

  it('turns an exit code in noRetryExitCodes into a permanent error', () => {
    const outcome = {
      kind: 'failed' as const,
      category: 'transient' as const,
      exitCode: 2,
      message: 'x',
    };
    expect(categorise(outcome, [2])).toBe('permanent');
    expect(judgeAttempt(context({ noRetryExitCodes: [2] }), outcome, now)).toEqual({
      status: 'failed',
      category: 'permanent',
    });
  });

  it('retries a timeout while attempts remain, and ends timed_out after the last', () => {
    const outcome = { kind: 'timed_out' as const, message: 'x' };
    expect(judgeAttempt(context(), outcome, now, () => 0)).toMatchObject({
      status: 'queued',
      category: 'timeout',
    });
    expect(judgeAttempt(context({ attempts: 3 }), outcome, now)).toEqual({
      status: 'timed_out',
      category: 'timeout',
    });
  });

  it('never retries a cancelled attempt', () => {
    expect(judgeAttempt(context(), { kind: 'cancelled', message: 'x' }, now)).toEqual({
      status: 'cancelled',
      category: 'cancelled',
    });
  });

  it('retries infra errors', () => {
    expect(
      judgeAttempt(context(), { kind: 'failed', category: 'infra', message: 'lost' }, now, () => 0),
    ).toMatchObject({ status: 'queued', category: 'infra' });
  });

  it('hands an attempt stopped by a shutdown or an expiring lease back in its place, whatever attempts remain', () => {
    const stopped = { kind: 'failed' as const, category: 'infra' as const, message: 'stopped' };
    for (const reason of ['shutdown', 'lease_expiring'] as const) {
      expect(judgeAttempt(context({ attempts: 3 }), stopped, now, Math.random, reason)).toEqual({
        status: 'queued',
        category: 'infra',
        retryAt: null,
      });
    }
    // An attempt that succeeded before the stop took effect succeeded: it is not run again.
    for (const reason of ['shutdown', 'lease_expiring'] as const) {
      expect(
        judgeAttempt(context(), { kind: 'succeeded', exitCode: 0 }, now, Math.random, reason),
      ).toEqual({
        status: 'succeeded',
      });
    }
    // A cancel or a timeout is the job's own end, judged as usual.
    expect(
      judgeAttempt(context(), { kind: 'cancelled', message: 'x' }, now, Math.random, 'cancelled'),
    ).toEqual({ status: 'cancelled', category: 'cancelled' });
  });
});
