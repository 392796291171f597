import { JobSpecError, type ClaimedJob, type Outcome } from '@danube/core';
import { AttemptsRepository, JobsRepository, JobsService } from '@danube/queue';
import {
  stoppedOutcome,
  type AttemptContext,
  type RunHandle,
  type Runtime,
  type StopReason,
} from '@danube/runtime';
import { queueOn } from '../../../test/support/queue';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { waitFor } from '../../../test/support/wait-for';
import { AttemptWriter } from './attempt-writer';
import { JobRunner } from './job-runner';

/**
 * The job runner on a real Postgres with a runtime of the test's own, in this process: what
 * it records when an attempt cannot be adopted or started, and what it does at shutdown.
 */
let db: TestDatabase;
let attempts: AttemptsRepository;
let jobs: JobsRepository;
let service: JobsService;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ attempts, jobs, service } = queueOn(db));
});
afterAll(() => db.drop());

/** An attempt that ends when the test says, or when stopped; runs on without us if told. */
class TestHandle implements RunHandle {
  readonly stops: StopReason[] = [];
  cleanedUp = false;
  private settle!: (outcome: Outcome) => void;
  private readonly outcome = new Promise<Outcome>((resolve) => (this.settle = resolve));
  constructor(
    readonly ref: string | null,
    readonly keepsRunning: boolean,
  ) {}
  wait() {
    return this.outcome;
  }
  async stop(reason: StopReason) {
    this.stops.push(reason);
    this.settle(stoppedOutcome(reason, 60));
  }
  end(outcome: Outcome) {
    this.settle(outcome);
  }
  stderrTail() {
    return '';
  }
  async cleanUp() {
    this.cleanedUp = true;
  }
}

/**
 * A local runtime by default (attempts die with the executor: no refFor, no adoption). With
 * `keepsRunning`, one like the Kubernetes runtime: the attempt's ref is known before it
 * starts, and the runner enters it through adopt(), which creates it when it does not exist.
 */
class TestRuntime implements Runtime {
  readonly name = 'test';
  readonly handles: TestHandle[] = [];
  readonly refFor?: (context: AttemptContext) => string;
  constructor(private readonly behaviour: { keepsRunning?: boolean; startFails?: Error } = {}) {
    if (behaviour.keepsRunning)
      this.refFor = (context) => `test:${context.job.id}-${context.attempt}`;
  }
  async start(context: AttemptContext) {
    if (this.behaviour.startFails) throw this.behaviour.startFails;
    const handle = new TestHandle(`test:${context.job.id}-${context.attempt}`, false);
    this.handles.push(handle);
    return handle;
  }
  async adopt(ref: string, context: AttemptContext) {
    if (!this.behaviour.keepsRunning || ref !== this.refFor!(context)) return null;
    const handle = new TestHandle(ref, true);
    this.handles.push(handle);
    return handle;
  }
  async close() {}
}

async function claimedJob(): Promise<ClaimedJob> {
  const topic = `t${Math.random()}`;
  await service.enqueue({ topic, command: ['true'] });
  const [job] = await attempts.claim('e1', [topic], 1, 30_000);
  return job!;
}

function runner(job: ClaimedJob, runtime: Runtime, writer: AttemptWriter): JobRunner {
  return new JobRunner(
    job,
    runtime,
    writer,
    {
      retryScheduled: () => undefined,
      envFor: async () => ({ env: {}, secretValues: [] }),
      storedOutput: (adopted) => attempts.storedOutput(adopted.id, adopted.attempts),
      started: () => undefined,
      codeStarted: () => undefined,
      recorded: () => undefined,
    },
    'e1',
    { leaseMs: 30_000, fenceMarginMs: 2000, claimSentAt: performance.now() },
  );
}

const writer = () => new AttemptWriter(db.pool, 'e1', 'test');

it('an attempt left behind that the runtime cannot re-attach to is recorded as infra, and the job retried', async () => {
  const job = await claimedJob();
  // As a claim of a job whose lease expired while its attempt ran elsewhere.
  job.runtimeRef = 'test:gone';
  await runner(job, new TestRuntime(), writer()).run();
  const [execution] = await jobs.executions('default', job.id);
  expect(execution).toMatchObject({
    attempt: 1,
    executorId: 'e1',
    outcome: 'failed',
    errorCategory: 'infra',
    message: expect.stringMatching(/left behind .* cannot re-attach/),
  });
  expect(await jobs.findById(null, job.id)).toMatchObject({ status: 'queued', runtimeRef: null });
});

it('at shutdown an attempt that runs on without the executor is handed over, not recorded or cleaned up', async () => {
  const job = await claimedJob();
  const runtime = new TestRuntime({ keepsRunning: true });
  const w = writer();
  const run = runner(job, runtime, w);
  const running = run.run();
  await waitFor('the attempt to start', () => runtime.handles.length > 0);
  run.stop('shutdown');
  await running;
  expect(runtime.handles[0]!.stops).toEqual(['shutdown']);
  expect(runtime.handles[0]!.cleanedUp).toBe(false);
  // Back in the queue with its ref, for the next executor to adopt; no record yet.
  expect(await jobs.findById(null, job.id)).toMatchObject({
    status: 'queued',
    runtimeRef: `test:${job.id}-1`,
    leaseOwner: null,
    attempts: 1,
  });
  expect(await jobs.executions('default', job.id)).toEqual([]);
});

it('an attempt that ends is recorded, and what it left behind is cleaned up after the record', async () => {
  const job = await claimedJob();
  const runtime = new TestRuntime();
  const run = runner(job, runtime, writer());
  const running = run.run();
  await waitFor('the attempt to start', () => runtime.handles.length > 0);
  runtime.handles[0]!.end({ kind: 'succeeded', exitCode: 0, result: { rows: 3 } });
  await running;
  expect(runtime.handles[0]!.cleanedUp).toBe(true);
  expect(await jobs.findById(null, job.id)).toMatchObject({
    status: 'succeeded',
    result: { rows: 3 },
  });
});

it('an attempt that cannot start is recorded: permanent for a spec the runtime refuses, infra otherwise', async () => {
  const refused = await claimedJob();
  await runner(
    refused,
    new TestRuntime({ startFails: new JobSpecError('no image given') }),
    writer(),
  ).run();
  expect(await jobs.findById(null, refused.id)).toMatchObject({
    status: 'failed',
    error: { category: 'permanent', message: 'could not start the attempt: no image given' },
  });

  const broken = await claimedJob();
  await runner(broken, new TestRuntime({ startFails: new Error('disk full') }), writer()).run();
  expect(await jobs.findById(null, broken.id)).toMatchObject({
    status: 'queued',
    error: { category: 'infra', message: 'could not start the attempt: disk full' },
  });
});
