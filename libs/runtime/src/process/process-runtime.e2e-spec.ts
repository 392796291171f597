import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimedJob } from '@danube/core';
import { spawnTracked } from '../../../../test/support/processes';
import { isAlive, waitFor } from '../../../../test/support/wait-for';
import type { AttemptContext } from '../runtime';
import { ProcessRuntime } from './process-runtime';

/** The process runtime's watchdog: a job never outlives the lease its executor holds. */
const workRoot = mkdtempSync(join(tmpdir(), 'danube-process-runtime-'));
let runtime: ProcessRuntime;
beforeAll(async () => {
  runtime = await ProcessRuntime.create({ workRoot, killGraceMs: 500, keepWorkDirs: false });
});

function context(command: string, fenceAt?: number): AttemptContext & { lines: string[] } {
  const lines: string[] = [];
  const job = {
    id: '1',
    topic: 't',
    timeoutSeconds: 60,
    spec: { command, env: {}, backoff: { initialSeconds: 1, factor: 2, maxSeconds: 1 } },
  } as unknown as ClaimedJob;
  return { job, attempt: 1, env: {}, onLog: (_s, line) => lines.push(line), fenceAt, lines };
}

it('kills the job when its lease is not renewed by the deadline', async () => {
  const ctx = context('echo started; exec sleep 60', performance.now() + 400);
  const handle = await runtime.start(ctx);
  const outcome = await handle.wait();
  expect(outcome).toMatchObject({ kind: 'failed', message: 'killed by signal SIGKILL' });
  expect(ctx.lines).toEqual(['started']);
});

it('each renewal moves the deadline; the job runs past the first one and dies after the last', async () => {
  // The job counts; it would count to 60 if nothing killed it.
  const ctx = context('i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo $i; sleep 0.1; done', 0);
  ctx.fenceAt = performance.now() + 500;
  const handle = await runtime.start(ctx);
  // Renew for about 1.5 s, three times the first deadline.
  const renewUntil = performance.now() + 1500;
  while (performance.now() < renewUntil) {
    handle.fence!(performance.now() + 500);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const countedWhileRenewed = ctx.lines.length;
  const outcome = await handle.wait();
  expect(outcome).toMatchObject({ kind: 'failed', message: 'killed by signal SIGKILL' });
  // Renewals kept it alive well past the first deadline (about 5 counts), and it did not
  // count to the end once they stopped.
  expect(countedWhileRenewed).toBeGreaterThan(8);
  expect(ctx.lines.length).toBeLessThan(60);
});

it('a job without a deadline runs to its end', async () => {
  const ctx = context('sleep 0.3; echo done');
  const handle = await runtime.start(ctx);
  expect(await handle.wait()).toMatchObject({ kind: 'succeeded', exitCode: 0 });
  expect(ctx.lines).toEqual(['done']);
});

it("dies with its executor: a SIGKILLed executor's job and its children are killed at once", async () => {
  const pidFile = join(workRoot, 'child.pid');
  const script = `
    const { ProcessRuntime } = require(${JSON.stringify(join(__dirname, '..', '..', '..', '..', 'dist', 'libs', 'runtime', 'src'))});
    ProcessRuntime.create({ workRoot: ${JSON.stringify(workRoot)}, killGraceMs: 500, keepWorkDirs: false })
      .then((rt) => rt.start({
        job: { id: '2', topic: 't', timeoutSeconds: 60, spec: { command: 'sleep 60 & echo $! > ${pidFile}; wait', env: {} } },
        attempt: 1, env: {}, onLog: () => {}, fenceAt: performance.now() + 60000,
      }))
      .then(() => console.log('STARTED'));`;
  const executor = spawnTracked(process.execPath, ['-e', script]);
  const sleeper = await waitFor('the job to start its child', () => {
    if (executor.hasExited) throw new Error(`the stand-in executor exited:\n${executor.output()}`);
    if (!executor.output().includes('STARTED')) return null;
    try {
      return Number(readFileSync(pidFile, 'utf8'));
    } catch {
      return null;
    }
  });
  expect(isAlive(sleeper)).toBe(true);
  // SIGKILL to the executor alone, not its group: the job is in a group of its own.
  executor.signal('SIGKILL');
  await waitFor('the orphaned job to be killed', () => !isAlive(sleeper), 5000);
});

it('a burst of starts spawns one process per turn of the event loop, so other work runs between spawns', async () => {
  // A ticker that counts turns of the event loop; each start notes the count when it spawned.
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const spawnedAt: number[] = [];
  const handles = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const handle = await runtime.start(context('exit 0'));
      spawnedAt.push(turns);
      return handle;
    }),
  );
  ticking = false;
  await Promise.all(handles.map((h) => h.wait()));
  // Without turns, the spawns of a burst ran back to back within one turn, blocking the
  // loop (and lease renewals) for as long as all of them took.
  expect(new Set(spawnedAt).size).toBe(spawnedAt.length);
});

it('a result.json that is not JSON: the attempt succeeds without a result, saying why in its log and its record', async () => {
  const ctx = context('echo "{not json" > "$DANUBE_RESULT_FILE"; echo done');
  const outcome = await (await runtime.start(ctx)).wait();
  expect(outcome).toMatchObject({
    kind: 'succeeded',
    warning: expect.stringMatching(/^result\.json is not valid JSON \(.+\) and was ignored$/),
  });
  expect(outcome).not.toHaveProperty('result');
  expect(ctx.lines).toEqual([
    'done',
    expect.stringMatching(/^danube: result\.json is not valid JSON \(.+\) and was ignored$/),
  ]);
});
