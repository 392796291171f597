import {
  DEFAULT_MAX_ATTEMPTS,
  InvalidTransitionError,
  type ClaimedJob,
  type NewJob,
} from '@danube/core';
import { Client } from 'pg';
import { queueOn } from '../../../test/support/queue';
import { waitFor } from '../../../test/support/wait-for';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { AttemptsRepository } from './attempts.repository';
import { ExecutorsRepository } from './executors.repository';
import { JobsRepository } from './jobs.repository';
import { succeededAttempt, type AttemptFinish, type LogLine } from './records';
import { JobsService } from './jobs.service';

let db: TestDatabase;
/** The executor's statements (claim, start, finish, renew, reap, logs) and the REST ones. */
let repo: AttemptsRepository;
let jobs: JobsRepository;
let service: JobsService;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ attempts: repo, jobs, service } = queueOn(db));
});
afterAll(() => db.drop());
beforeEach(() =>
  db.pool.query('TRUNCATE danube.jobs, danube.executions, danube.job_logs, danube.executors'),
);

const job = (over: Partial<NewJob> = {}): NewJob => ({ topic: 'a', command: ['true'], ...over });
const LEASE = 30_000;
/** A batch write that matched no row: nothing written, nothing to try again. */
const NOTHING = { done: [], busy: [] };

function finishOf(claimed: ClaimedJob, over: Partial<AttemptFinish> = {}): AttemptFinish {
  return { ...succeededAttempt(claimed), result: { ok: true }, ...over };
}

async function count(where = 'true'): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM danube.jobs WHERE ${where}`);
  return rows[0].n;
}

describe('enqueue', () => {
  it('stores a job with defaults filled in', async () => {
    const { job: stored, created } = await service.enqueue(job());
    expect(created).toBe(true);
    expect(stored).toMatchObject({
      status: 'queued',
      taskClass: 'cpu_short',
      timeoutSeconds: 60,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      priority: 0,
      attempts: 0,
      spec: {
        command: ['true'],
        env: {},
        backoff: { initialSeconds: 1, factor: 2, maxSeconds: 300 },
        noRetryExitCodes: [],
      },
    });
  });

  it('returns the existing job for a repeated idempotency key', async () => {
    const first = await service.enqueue(job({ idempotencyKey: 'k1' }));
    const second = await service.enqueue(job({ idempotencyKey: 'k1', command: ['false'] }));
    expect(second.created).toBe(false);
    expect(second.job.id).toBe(first.job.id);
    expect(second.job.spec.command).toEqual(['true']);
    expect(await count()).toBe(1);
  });

  it('stores a batch in order, once per idempotency key, even within the batch', async () => {
    await service.enqueue(job({ idempotencyKey: 'old' }));
    const results = await service.enqueueMany([
      job({ command: ['echo', '1'] }),
      job({ idempotencyKey: 'old' }),
      job({ idempotencyKey: 'new', command: ['echo', '3'] }),
      job({ idempotencyKey: 'new', command: ['echo', '4'] }),
      job({ command: ['echo', '5'] }),
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false, true, false, true]);
    expect(results[3]!.job.id).toBe(results[2]!.job.id);
    expect(results.map((r) => r.job.spec.command)).toEqual([
      ['echo', '1'],
      ['true'],
      ['echo', '3'],
      ['echo', '3'],
      ['echo', '5'],
    ]);
    expect(await count()).toBe(4);
  });

  it('stores nothing from a batch when one job is refused, and names that job', async () => {
    await expect(service.enqueueMany([job(), job({ timeoutSeconds: 600 }), job()])).rejects.toThrow(
      'jobs[1].timeoutSeconds is 600 but cpu_short jobs may run at most 60 s',
    );
    await expect(service.enqueueMany([job(), job({ taskClass: 'gpu_slurm' })])).rejects.toThrow(
      'jobs[1].taskClass',
    );
    expect(await count()).toBe(0);
  });

  it('refuses reserved and malformed env names', async () => {
    await expect(service.enqueue(job({ env: { DANUBE_JOB_ID: 'x' } }))).rejects.toThrow(
      'env.DANUBE_JOB_ID uses the DANUBE_ prefix',
    );
    await expect(service.enqueue(job({ env: { '1BAD': 'x' } }))).rejects.toThrow(
      'env.1BAD is not a valid environment variable name',
    );
    expect(await count()).toBe(0);
  });
});

describe('claim', () => {
  it('claims the highest priority first, then the oldest', async () => {
    const low = await service.enqueue(job({ priority: 0 }));
    const high = await service.enqueue(job({ priority: 5 }));
    const low2 = await service.enqueue(job({ priority: 0 }));
    const claimed = await repo.claim('e1', ['a'], 10, LEASE);
    expect(claimed.map((j) => j.id)).toEqual([high.job.id, low.job.id, low2.job.id]);
    expect(claimed.every((j) => j.attempts === 1)).toBe(true);
    expect(await jobs.findById(null, high.job.id)).toMatchObject({
      status: 'claimed',
      attempts: 1,
      leaseOwner: 'e1',
    });
  });

  it('claims only due jobs of its topics', async () => {
    await service.enqueue(job({ topic: 'b' }));
    await service.enqueue(job({ runAt: new Date(Date.now() + 60_000) }));
    const due = await service.enqueue(job());
    expect((await repo.claim('e1', ['a'], 10, LEASE)).map((j) => j.id)).toEqual([due.job.id]);
    expect(await repo.claim('e1', ['a'], 10, LEASE)).toEqual([]);
    expect((await repo.claim('e2', null, 10, LEASE)).map((j) => j.topic)).toEqual(['b']);
  });

  it('never hands one job to two claimers', async () => {
    await service.enqueueMany(
      Array.from({ length: 1000 }, (_, i) => job({ topic: i % 2 ? 'a' : 'b' })),
    );
    const claimers = Array.from({ length: 8 }, (_, i) =>
      (async () => {
        const ids: string[] = [];
        for (;;) {
          const batch = await repo.claim(`e${i}`, i % 3 === 0 ? null : ['a', 'b'], 7, LEASE);
          if (batch.length === 0) return ids;
          ids.push(...batch.map((j) => j.id));
        }
      })(),
    );
    const ids = (await Promise.all(claimers)).flat();
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
  });
});

describe('fencing by lease token', () => {
  it('a finish with a stale lease token changes nothing', async () => {
    await service.enqueue(job());
    const [claimed] = await repo.claim('e1', ['a'], 1, LEASE);
    const stale = { ...claimed!, leaseToken: '00000000-0000-4000-8000-000000000000' };
    expect(await repo.finish('e1', 'inline', [finishOf(stale)])).toEqual(NOTHING);
    expect(
      await repo.finish('e1', 'inline', [
        finishOf(stale, { nextStatus: 'failed', outcome: 'failed', errorCategory: 'transient' }),
      ]),
    ).toEqual(NOTHING);
    const after = await jobs.findById(null, claimed!.id);
    expect(after).toMatchObject({ status: 'claimed', leaseOwner: 'e1', result: null, error: null });
    expect(await jobs.executions('default', claimed!.id)).toEqual([]);
  });

  it('an executor whose lease was reaped and re-claimed cannot overwrite the new holder', async () => {
    await service.enqueue(job());
    const [first] = await repo.claim('e1', ['a'], 1, 1000);
    await db.pool.query("UPDATE danube.jobs SET lease_expires_at = now() - interval '1 second'");
    expect(await repo.reapExpiredLeases()).toHaveLength(1);
    const [second] = await repo.claim('e2', ['a'], 1, LEASE);
    expect(second!.id).toBe(first!.id);
    expect(
      await repo.markRunning([
        { id: first!.id, leaseToken: first!.leaseToken, startedAt: new Date(), runtimeRef: 'x' },
      ]),
    ).toEqual(NOTHING);
    expect(await repo.finish('e1', 'inline', [finishOf(first!, { result: 'stale' })])).toEqual(
      NOTHING,
    );
    expect(await repo.finish('e2', 'inline', [finishOf(second!, { result: 'fresh' })])).toEqual({
      done: [{ id: second!.id, status: 'succeeded', workflowId: null, parentJobId: null }],
      busy: [],
    });
    const done = await jobs.findById(null, first!.id);
    expect(done).toMatchObject({ status: 'succeeded', result: 'fresh', leaseOwner: null });
    // e1's attempt is recorded by the reaper, e2's by e2; e1's late finish wrote nothing.
    expect(
      (await jobs.executions('default', first!.id)).map((e) => [
        e.attempt,
        e.executorId,
        e.outcome,
      ]),
    ).toEqual([
      [1, 'e1', 'failed'],
      [2, 'e2', 'succeeded'],
    ]);
  });

  it('renews only the leases the executor still holds', async () => {
    await service.enqueueMany([job(), job()]);
    const [a, b] = await repo.claim('e1', ['a'], 2, LEASE);
    await repo.finish('e1', 'inline', [finishOf(b!)]);
    const renewed = await repo.renewLeases('e1', [a!.id, b!.id], LEASE);
    expect(renewed).toEqual([
      { id: a!.id, leaseToken: a!.leaseToken, cancelRequested: false, renewed: true },
    ]);
    expect(await repo.renewLeases('e2', [a!.id], LEASE)).toEqual([]);
  });
});

describe('transitions the database refuses', () => {
  it('cannot cancel or finish a job that already succeeded', async () => {
    await service.enqueue(job());
    const [claimed] = await repo.claim('e1', ['a'], 1, LEASE);
    await repo.finish('e1', 'inline', [finishOf(claimed!)]);
    await expect(service.cancel('default', claimed!.id)).rejects.toThrow(
      new InvalidTransitionError(claimed!.id, 'succeeded', 'cancelled'),
    );
    expect(
      await repo.finish('e1', 'inline', [
        finishOf(claimed!, { nextStatus: 'failed', outcome: 'failed' }),
      ]),
    ).toEqual(NOTHING);
    expect((await jobs.findById(null, claimed!.id))!.status).toBe('succeeded');
  });

  it('cannot retry a job that has not failed, nor mark running a job that is not claimed', async () => {
    const { job: queued } = await service.enqueue(job());
    await expect(service.retry('default', queued.id)).rejects.toThrow(
      'is queued and cannot become queued',
    );
    expect(
      await repo.markRunning([
        {
          id: queued.id,
          leaseToken: '00000000-0000-4000-8000-000000000000',
          startedAt: new Date(),
          runtimeRef: null,
        },
      ]),
    ).toEqual(NOTHING);
    expect((await jobs.findById(null, queued.id))!.status).toBe('queued');
  });

  it('cancels a queued job at once, and a running one by request', async () => {
    const { job: queued } = await service.enqueue(job());
    expect((await service.cancel('default', queued.id)).status).toBe('cancelled');
    const { job: other } = await service.enqueue(job());
    const [claimed] = await repo.claim('e1', ['a'], 1, LEASE);
    expect(claimed!.id).toBe(other.id);
    const requested = await service.cancel('default', other.id);
    expect(requested.status).toBe('claimed');
    expect(requested.cancelRequestedAt).not.toBeNull();
    expect(await repo.renewLeases('e1', [other.id], LEASE)).toEqual([
      { id: other.id, leaseToken: claimed!.leaseToken, cancelRequested: true, renewed: true },
    ]);
  });

  it('retries a failed job with a fresh budget of attempts', async () => {
    await service.enqueue(job({ maxAttempts: 2 }));
    const [claimed] = await repo.claim('e1', ['a'], 1, LEASE);
    await repo.finish('e1', 'inline', [
      finishOf(claimed!, {
        nextStatus: 'failed',
        outcome: 'failed',
        errorCategory: 'permanent',
        message: 'no',
      }),
    ]);
    const retried = await service.retry('default', claimed!.id);
    expect(retried).toMatchObject({ status: 'queued', attempts: 1, maxAttempts: 3, error: null });
  });
});

describe('reaper', () => {
  const expireLeases = () =>
    db.pool.query("UPDATE danube.jobs SET lease_expires_at = now() - interval '1 second'");

  /** A session named as executor `executor`'s are, inside an open transaction. */
  const openSession = async (executor: string) => {
    const client = new Client({
      connectionString: db.url,
      application_name: `danube-executor-${executor}`,
    });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    return client;
  };

  it("ends a lease-expired executor's session left idle in a transaction, so that its jobs can be reaped; no other session", async () => {
    await service.enqueueMany([job(), job()]);
    const [stalledJob] = await repo.claim('stalled', ['a'], 1, 1000);
    const [healthyJob] = await repo.claim('healthy', ['a'], 1, 60_000);
    // Each executor's session holds its job's row in an open transaction and then idles,
    // as a process paused between two statements does.
    const session = async (executor: string, id: string) => {
      const client = await openSession(executor);
      await client.query('SELECT id FROM danube.jobs WHERE id = $1 FOR UPDATE', [id]);
      return client;
    };
    const stalled = await session('stalled', stalledJob!.id);
    const healthy = await session('healthy', healthyJob!.id);
    const closed = new Promise<void>((resolve) => stalled.on('end', () => resolve()));
    try {
      // Its lease (1 s) runs out while its session holds the row; the other's (60 s) does not.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // Locked: the reaper passes over it.
      expect(await repo.reapExpiredLeases()).toEqual([]);
      expect(await repo.endStalledExecutorSessions(60_000)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await repo.endStalledExecutorSessions(10)).toEqual(['danube-executor-stalled']);
      await closed;
      await waitFor(
        'the ended session to let go of the row',
        async () => (await repo.reapExpiredLeases()).length === 1,
      );
      expect((await jobs.findById('default', stalledJob!.id))!.status).toBe('queued');
      // The healthy executor's session, idle in its transaction too, was left alone.
      expect((await healthy.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await healthy.query('ROLLBACK').catch(() => undefined);
      await healthy.end();
      await stalled.end().catch(() => undefined);
    }
  });

  it("ends the session of an executor that stalled while holding the reaper's lock, once its heartbeat is older than its lease; not a live one's", async () => {
    const register = (id: string) =>
      db.pool.query(
        "INSERT INTO danube.executors (id, topics, host, pid, version, runtime, capacity, lease_ms) VALUES ($1, '{a}', 'h', 1, 'v', 'process', 1, 1000)",
        [id],
      );
    await register('paused');
    await register('busy');
    const holdReaperLock = async (executor: string) => {
      const client = await openSession(executor);
      expect(await AttemptsRepository.on(client).tryReaperLock()).toBe(true);
      return client;
    };
    // Outside a transaction the lock is let go with the statement: true means it was free.
    const lockFree = () => AttemptsRepository.on(db.pool).tryReaperLock();
    const busy = await holdReaperLock('busy');
    try {
      // A live executor at work keeps the lock, however long its transaction idles.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await repo.endStalledExecutorSessions(10)).toEqual([]);
    } finally {
      await busy.query('ROLLBACK');
      await busy.end();
    }
    const paused = await holdReaperLock('paused');
    const closed = new Promise<void>((resolve) => paused.on('end', () => resolve()));
    try {
      await db.pool.query(
        "UPDATE danube.executors SET heartbeat_at = now() - interval '2 seconds' WHERE id = 'paused'",
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await lockFree()).toBe(false);
      expect(await repo.endStalledExecutorSessions(10)).toEqual(['danube-executor-paused']);
      await closed;
      await waitFor('the reaper lock to be free', lockFree);
    } finally {
      await paused.end().catch(() => undefined);
    }
  });

  it('records each reaped attempt as infra naming its executor, and queues the job in its old place', async () => {
    await db.pool.query(
      "INSERT INTO danube.executors (id, topics, host, pid, version, runtime, capacity) VALUES ('e1', '{a}', 'h', 1, 'v', 'process', 1)",
    );
    const old = new Date(Date.now() - 60_000);
    const [{ job: first }] = await service.enqueueMany([job({ runAt: old }), job({ runAt: old })]);
    const [a, b] = await repo.claim('e1', ['a'], 2, 1000);
    const startedAt = new Date();
    await repo.markRunning([{ id: a!.id, leaseToken: a!.leaseToken, startedAt, runtimeRef: null }]);
    await service.enqueue(job());
    expect(await repo.reapExpiredLeases()).toEqual([]);
    await expireLeases();
    const reaped = await repo.reapExpiredLeases();
    expect(reaped.map((r) => [r.id, r.status]).sort()).toEqual(
      [
        [a!.id, 'queued'],
        [b!.id, 'queued'],
      ].sort(),
    );
    const executions = await jobs.executions('default', a!.id);
    expect(executions).toEqual([
      expect.objectContaining({
        attempt: 1,
        executorId: 'e1',
        runtime: 'process',
        outcome: 'failed',
        errorCategory: 'infra',
        startedAt,
      }),
    ]);
    expect(executions[0]!.message).toMatch(/executor e1 stopped renewing its lease.*may have run/);
    // b was claimed and never marked running: recorded all the same, with no start time.
    expect(await jobs.executions('default', b!.id)).toEqual([
      expect.objectContaining({ attempt: 1, executorId: 'e1', startedAt: null }),
    ]);
    // Their place in line is kept: they come before the job queued after them.
    expect(await jobs.findById(null, first.id)).toMatchObject({ status: 'queued', runAt: old });
    const again = await repo.claim('e2', ['a'], 3, LEASE);
    expect(again.map((j) => [j.id, j.attempts])).toEqual([
      [a!.id, 2],
      [b!.id, 2],
      [expect.any(String), 1],
    ]);
  });

  it('queues an attempt that runs on without its executor for adoption, even when cancelled; cancels the others', async () => {
    await service.enqueueMany([job(), job()]);
    const [a, b] = await repo.claim('e1', ['a'], 2, 1000);
    const ref = 'kubernetes:danube-jobs/danube-1-1';
    await repo.markRunning([
      { id: a!.id, leaseToken: a!.leaseToken, startedAt: new Date(), runtimeRef: ref },
    ]);
    await service.cancel('default', a!.id);
    await service.cancel('default', b!.id);
    await expireLeases();
    const reaped = await repo.reapExpiredLeases();
    expect(reaped.map((r) => [r.id, r.status]).sort()).toEqual(
      [
        [a!.id, 'queued'],
        [b!.id, 'cancelled'],
      ].sort(),
    );
    expect(await jobs.findById(null, a!.id)).toMatchObject({
      status: 'queued',
      runtimeRef: ref,
      leaseOwner: null,
      attempts: 1,
    });
    // No record yet for the attempt that is still running: its adopter writes it.
    expect(await jobs.executions('default', a!.id)).toEqual([]);
    expect(await jobs.executions('default', b!.id)).toHaveLength(1);
    // The same attempt: the next claim adopts it rather than counting a new attempt.
    const [again] = await repo.claim('e2', ['a'], 1, LEASE);
    expect(again).toMatchObject({ id: a!.id, attempts: 1, runtimeRef: ref });
  });
});

describe('a job row locked by another session', () => {
  /** Holds job `id` locked in an open transaction until the returned function is called. */
  async function lockRow(id: string): Promise<() => Promise<void>> {
    const client = await db.pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM danube.jobs WHERE id = $1 FOR UPDATE', [id]);
    return async () => {
      await client.query('ROLLBACK');
      client.release();
    };
  }

  it('plain batch writes wait for it, up to the lock timeout', async () => {
    await service.enqueue(job());
    const [a] = await repo.claim('e1', ['a'], 1, LEASE);
    const unlock = await lockRow(a!.id);
    const client = await db.pool.connect();
    try {
      await client.query("SET lock_timeout = '200ms'");
      await expect(
        AttemptsRepository.on(client).finish('e1', 'inline', [finishOf(a!)]),
      ).rejects.toMatchObject({
        code: '55P03',
      });
    } finally {
      client.release();
      await unlock();
    }
  });

  it('skip-locked batch writes do not wait: other rows are written, the locked one comes back busy until the lock is gone', async () => {
    await service.enqueueMany([job(), job()]);
    const [a, b] = await repo.claim('e1', ['a'], 2, LEASE);
    const unlock = await lockRow(a!.id);
    try {
      const renewals = await repo.renewLeases('e1', [a!.id, b!.id], LEASE);
      expect(renewals.map((r) => [r.id, r.renewed]).sort()).toEqual(
        [
          [a!.id, false],
          [b!.id, true],
        ].sort(),
      );
      const starts = [a!, b!].map((c) => ({
        id: c.id,
        leaseToken: c.leaseToken,
        startedAt: new Date(),
        runtimeRef: null,
      }));
      expect(await repo.markRunning(starts, 'skipLocked')).toEqual({
        done: [{ id: b!.id, cancelRequested: false }],
        busy: [a!.id],
      });
      expect(await repo.finish('e1', 'inline', [finishOf(a!), finishOf(b!)], 'skipLocked')).toEqual(
        {
          done: [{ id: b!.id, status: 'succeeded', workflowId: null, parentJobId: null }],
          busy: [a!.id],
        },
      );
      expect(await jobs.executions('default', a!.id)).toEqual([]);
    } finally {
      await unlock();
    }
    expect((await repo.finish('e1', 'inline', [finishOf(a!)], 'skipLocked')).done).toHaveLength(1);
    expect((await jobs.findById(null, a!.id))!.status).toBe('succeeded');
  });
});

describe('events written by the job transition triggers', () => {
  beforeEach(() => db.pool.query('TRUNCATE danube.events'));

  async function events(jobIds: string[]) {
    const { rows } = await db.pool.query(
      `SELECT type, job_id AS "jobId", attempt, data FROM danube.events
       WHERE job_id = ANY($1::bigint[]) ORDER BY tx, seq`,
      [jobIds],
    );
    // Timestamps in data are Postgres' text form; compared as instants.
    for (const row of rows)
      if (row.data?.retryAt) row.data.retryAt = new Date(row.data.retryAt).toISOString();
    return rows as { type: string; jobId: string; attempt: number; data: any }[];
  }

  it('records each transition once, started before its end, with its details', async () => {
    const { job: a } = await service.enqueue(job({ maxAttempts: 2 }));
    const { job: b } = await service.enqueue(job());
    const [claimedA, claimedB] = await repo.claim('e1', ['a'], 2, LEASE);
    await repo.markRunning([
      { id: a.id, leaseToken: claimedA!.leaseToken, startedAt: new Date(), runtimeRef: null },
    ]);
    const retryAt = new Date(Date.now() - 1000);
    const failure = {
      nextStatus: 'queued' as const,
      outcome: 'failed' as const,
      retryAt,
      errorCategory: 'transient' as const,
      message: 'exit 1',
      exitCode: 1,
    };
    // a: running -> queued (a retry); b: claimed -> succeeded in one statement.
    await repo.finish('e1', 'inline', [finishOf(claimedA!, failure), finishOf(claimedB!)]);
    const [again] = await repo.claim('e1', ['a'], 1, LEASE);
    await repo.finish('e1', 'inline', [
      finishOf(again!, { ...failure, nextStatus: 'failed', retryAt: null }),
    ]);
    const { job: c } = await service.enqueue(job());
    await service.cancel('default', c.id);

    const error = { category: 'transient', message: 'exit 1', exitCode: 1 };
    expect(await events([a.id, b.id, c.id])).toEqual([
      { type: 'job_queued', jobId: a.id, attempt: 0, data: {} },
      { type: 'job_queued', jobId: b.id, attempt: 0, data: {} },
      { type: 'job_started', jobId: a.id, attempt: 1, data: null },
      {
        type: 'job_retrying',
        jobId: a.id,
        attempt: 1,
        data: { from: 'running', error, retryAt: retryAt.toISOString() },
      },
      { type: 'job_started', jobId: b.id, attempt: 1, data: null },
      { type: 'job_succeeded', jobId: b.id, attempt: 1, data: { from: 'claimed' } },
      { type: 'job_started', jobId: a.id, attempt: 2, data: null },
      { type: 'job_failed', jobId: a.id, attempt: 2, data: { from: 'claimed', error } },
      { type: 'job_queued', jobId: c.id, attempt: 0, data: {} },
      {
        type: 'job_cancelled',
        jobId: c.id,
        attempt: 0,
        data: {
          from: 'queued',
          error: { category: 'cancelled', message: 'cancelled by request' },
        },
      },
    ]);
  });

  it('writes two events per job for a large batch that follows one-job batches', async () => {
    // The trigger's plan is cached per connection; the small batches come first on purpose.
    const client = await db.pool.connect();
    try {
      const onClient = AttemptsRepository.on(client);
      for (let i = 0; i < 6; i++) {
        await service.enqueue(job());
        const claimed = await onClient.claim('e1', ['a'], 1, LEASE);
        await onClient.finish(
          'e1',
          'inline',
          claimed.map((c) => finishOf(c)),
        );
      }
      const enqueued = await service.enqueueMany(Array.from({ length: 500 }, () => job()));
      await db.pool.query('TRUNCATE danube.events');
      const claimed = await onClient.claim('e1', ['a'], 500, LEASE);
      expect(claimed).toHaveLength(500);
      const finished = await onClient.finish(
        'e1',
        'inline',
        claimed.map((c) => finishOf(c)),
      );
      expect(finished.done).toHaveLength(500);
      const ids = enqueued.map((e) => e.job.id);
      const written = await events(ids);
      expect(written.map((e) => `${e.jobId} ${e.type}`)).toEqual(
        [...ids]
          .sort((x, y) => Number(x) - Number(y))
          .flatMap((id) => [`${id} job_started`, `${id} job_succeeded`]),
      );
    } finally {
      client.release();
    }
  });
});

describe('log lines', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 23, 0, 0, ms));
  const lineOf = (claimed: ClaimedJob, attempt: number, stream: string, ms: number): LogLine => ({
    jobId: claimed.id,
    attempt,
    leaseToken: claimed.leaseToken,
    stream: stream as LogLine['stream'],
    line: `${stream} ${ms}`,
    loggedAt: at(ms),
  });

  it("counts an attempt's stdout and stderr lines and the lines at the last time", async () => {
    const { job: stored } = await service.enqueue(job());
    expect(await repo.storedOutput(stored.id, 1)).toBeNull();
    const [claimed] = await repo.claim('e1', ['a'], 1, LEASE);
    await repo.insertLogLines([
      lineOf(claimed!, 1, 'stdout', 100),
      lineOf(claimed!, 1, 'stderr', 200),
      lineOf(claimed!, 1, 'stdout', 200),
      // Not the job's output, and other attempts: not counted.
      lineOf(claimed!, 1, 'system', 300),
      lineOf(claimed!, 2, 'stdout', 400),
    ]);
    expect(await repo.storedOutput(stored.id, 1)).toEqual({
      lines: 3,
      upTo: at(200),
      linesAtUpTo: 2,
    });
    expect(await repo.storedOutput(stored.id, 3)).toBeNull();
  });

  it('are fenced: lines written under a lease that was taken over are dropped, the rest kept in order', async () => {
    await service.enqueueMany([job(), job()]);
    const [a, b] = await repo.claim('e1', ['a'], 2, 1000);
    await db.pool.query(
      "UPDATE danube.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
      [a!.id],
    );
    await repo.reapExpiredLeases();
    const [taken] = await repo.claim('e2', ['a'], 1, LEASE);
    expect(taken!.id).toBe(a!.id);
    const lines = [5, 1, 4, 2, 3].map((ms) => lineOf(b!, 1, 'stdout', ms));
    await repo.insertLogLines([
      lineOf(a!, 1, 'stdout', 9),
      ...lines,
      lineOf(taken!, 2, 'stdout', 7),
    ]);
    const stored = async (id: string) =>
      (await jobs.logLines('default', id, '0', 100)).map((l) => l.line);
    expect(await stored(a!.id)).toEqual(['stdout 7']);
    expect(await stored(b!.id)).toEqual(lines.map((l) => l.line));
  });
});

describe('adopted attempts', () => {
  it("an adopted attempt's record names the executor that started it, its start, and the adopter", async () => {
    await service.enqueue(job());
    const [first] = await repo.claim('starter', ['a'], 1, 1000);
    const startedAt = new Date(Date.now() - 5000);
    const ref = 'kubernetes:danube-jobs/danube-1-1';
    await repo.markRunning([
      { id: first!.id, leaseToken: first!.leaseToken, startedAt, runtimeRef: ref },
    ]);
    await db.pool.query("UPDATE danube.jobs SET lease_expires_at = now() - interval '1 second'");
    await repo.reapExpiredLeases();

    const [adopted] = await repo.claim('adopter', ['a'], 1, 1000);
    expect(adopted).toMatchObject({
      attempts: 1,
      runtimeRef: ref,
      startedBy: 'starter',
      startedAt,
    });
    await repo.markRunning([
      {
        id: adopted!.id,
        leaseToken: adopted!.leaseToken,
        startedAt,
        runtimeRef: ref,
        adopted: true,
      },
    ]);
    await repo.finish('adopter', 'kubernetes', [
      { ...succeededAttempt(adopted!), startedAt, runtimeRef: ref, adoptedFrom: 'starter' },
    ]);

    expect(await jobs.executions('default', first!.id)).toEqual([
      expect.objectContaining({
        attempt: 1,
        executorId: 'starter',
        adoptedBy: 'adopter',
        startedAt,
        outcome: 'succeeded',
      }),
    ]);
    expect(await jobs.findById('default', first!.id)).toMatchObject({
      status: 'succeeded',
      leaseOwner: null,
      startedBy: 'starter',
    });
  });

  it('an attempt its starter records itself has no adopter', async () => {
    await service.enqueue(job());
    const [claimed] = await repo.claim('solo', ['a'], 1, 1000);
    const startedAt = new Date();
    await repo.markRunning([
      { id: claimed!.id, leaseToken: claimed!.leaseToken, startedAt, runtimeRef: null },
    ]);
    await repo.finish('solo', 'process', [{ ...succeededAttempt(claimed!), startedAt }]);
    expect(await jobs.executions('default', claimed!.id)).toEqual([
      expect.objectContaining({ executorId: 'solo', adoptedBy: null }),
    ]);
  });
});

describe('executor registry', () => {
  const executors = () => ExecutorsRepository.on(db.pool);
  const register = (id: string, leaseMs: number) =>
    executors().register({
      id,
      topics: ['a'],
      host: 'h',
      pid: 1,
      version: 'v',
      runtime: 'process',
      capacity: 1,
      leaseMs,
    });

  it('an executor is lost once its heartbeat is older than its own lease, alive again when it beats', async () => {
    await register('short-lease', 1000);
    await register('long-lease', 60_000);
    await db.pool.query("UPDATE danube.executors SET heartbeat_at = now() - interval '5 seconds'");
    const states = async () =>
      Object.fromEntries((await executors().list()).map((e) => [e.id, e.state]));
    expect(await states()).toEqual({ 'long-lease': 'alive', 'short-lease': 'lost' });
    expect([...(await executors().liveByTopic(['a'])).entries()]).toEqual([['a', ['long-lease']]]);
    await executors().heartbeat('short-lease', 0);
    expect(await states()).toEqual({ 'long-lease': 'alive', 'short-lease': 'alive' });
    await executors().stop('long-lease');
    expect(await states()).toEqual({ 'long-lease': 'stopped', 'short-lease': 'alive' });
  });

  it('prune forgets executors stopped or unheard of for longer than the retention, and only those', async () => {
    await register('stopped-long-ago', 1000);
    await register('lost-long-ago', 1000);
    await register('stopped-recently', 1000);
    await register('alive', 1000);
    await db.pool.query(
      "UPDATE danube.executors SET stopped_at = now() - interval '8 days' WHERE id = 'stopped-long-ago'",
    );
    await db.pool.query(
      "UPDATE danube.executors SET heartbeat_at = now() - interval '8 days' WHERE id = 'lost-long-ago'",
    );
    await executors().stop('stopped-recently');
    const week = 7 * 24 * 3600 * 1000;
    expect((await executors().prune(week)).sort()).toEqual(['lost-long-ago', 'stopped-long-ago']);
    expect((await executors().list()).map((e) => e.id)).toEqual(['alive', 'stopped-recently']);
  });
});
