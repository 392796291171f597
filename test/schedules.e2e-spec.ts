import { join } from 'node:path';
import { startApi, http, type TestApi } from './support/api';
import { runCommand } from './support/run-command';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { tenantWithKey } from './support/tenants';
import { waitFor } from './support/wait-for';

/**
 * Schedules through the REST API of one API (housekeeping on): what is refused and why,
 * fires, pause and resume, workflows as targets, tenants. Two replicas firing one
 * schedule, overlap and catch-up are in schedules-replicas.e2e-spec.ts.
 */
let db: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'on' });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const job = { topic: 'nobody-serves', command: ['true'] };

function create(body: Record<string, unknown>, headers?: Record<string, string>) {
  return http('POST', `${api.url}/v1/schedules`, body, headers);
}

async function runsOf(id: string): Promise<any[]> {
  return (await http('GET', `${api.url}/v1/schedules/${id}/runs?limit=100`)).body.items;
}

describe('what a schedule must be', () => {
  it.each([
    [
      'a cron field out of range',
      { cron: '0 25 * * *' },
      'cron',
      'cron: the hour field "25" is invalid (Constraint error, got value 25 expected range 0-23)',
    ],
    [
      'a cron with seven fields',
      { cron: '* * * * * * *' },
      'cron',
      'cron: "* * * * * * *" has 7 field(s); write 5 (minute hour day-of-month month day-of-week) or 6 (second first)',
    ],
    [
      'a time zone that does not exist',
      { timeZone: 'Europe/Atlantis' },
      'timeZone',
      'timeZone: "Europe/Atlantis" is not a time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York',
    ],
    [
      'no target',
      { job: undefined },
      'job',
      'job, workflow: give the job or the workflow to start',
    ],
    [
      'two targets',
      { workflow: { name: 'w', nodes: [{ name: 'a', ...job }] } },
      'job',
      'job, workflow: give one of them, not both',
    ],
    [
      'a job with runAt',
      { job: { ...job, runAt: '2030-01-01T00:00:00Z' } },
      'job.runAt',
      'job.runAt: a scheduled job takes no runAt; each fire sets its own',
    ],
    [
      'a job with an idempotency key',
      { job: { ...job, idempotencyKey: 'k' } },
      'job.idempotencyKey',
      'job.idempotencyKey: a scheduled job takes no idempotencyKey; each fire sets its own',
    ],
  ])('refuses %s with a 400 naming the field', async (_, change, field, message) => {
    const response = await create({ name: 'bad', cron: '* * * * *', job, ...change });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ message, details: { field } });
  });

  it('checks the target as POST /v1/jobs and /v1/workflows would', async () => {
    const badJob = await create({
      name: 'bad',
      cron: '* * * * *',
      job: { ...job, topic: 'no spaces allowed' },
    });
    expect(badJob.status).toBe(400);
    expect(badJob.body.message).toMatch(/^job\.topic/);

    const cycle = await create({
      name: 'bad',
      cron: '* * * * *',
      workflow: {
        name: 'loop',
        nodes: [
          { name: 'a', ...job, dependsOn: ['b'] },
          { name: 'b', ...job, dependsOn: ['a'] },
        ],
      },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toMatch(/^workflow: .*cycle/);

    const unknownField = await create({ name: 'bad', cron: '* * * * *', job, color: 'blue' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toContain('color');
  });

  it('refuses a second schedule of the same name with 409', async () => {
    const first = await create({ name: 'twice', cron: '0 0 1 1 *', job });
    expect(first.status).toBe(201);
    const second = await create({ name: 'twice', cron: '0 0 1 1 *', job });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ details: { field: 'name' } });
  });
});

describe('firing', () => {
  it('fires every second, pauses, resumes, and is deleted while its jobs stay', async () => {
    const created = await create({ name: 'every-second', cron: '* * * * * *', job });
    expect(created.status).toBe(201);
    const schedule = created.body;
    expect(schedule).toMatchObject({
      cron: '* * * * * *',
      timeZone: 'UTC',
      overlap: 'allow',
      catchUp: 'none',
      paused: false,
      job: { topic: 'nobody-serves', command: ['true'] },
    });
    expect(new Date(schedule.nextRunAt).getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(schedule.warnings).toEqual([expect.stringContaining('"nobody-serves"')]);

    const runs = await waitFor('three runs', async () => {
      const items = await runsOf(schedule.id);
      return items.length >= 3 ? items : null;
    });
    for (const run of runs) {
      expect(run.outcome).toBe('started');
      const started = await http('GET', `${api.url}/v1/jobs/${run.jobId}`);
      expect(started.body).toMatchObject({
        topic: 'nobody-serves',
        status: 'queued',
        idempotencyKey: `schedule:${schedule.id}:${run.scheduledAt}`,
      });
    }
    const shown = await http('GET', `${api.url}/v1/schedules/${schedule.id}`);
    expect(shown.body.lastRuns.length).toBeGreaterThanOrEqual(3);
    expect(shown.body.lastFiredAt).not.toBeNull();

    const paused = await http('PATCH', `${api.url}/v1/schedules/${schedule.id}`, { paused: true });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, nextRunAt: null });
    const pausedAt = new Date(paused.body.updatedAt).getTime();
    const countAtPause = (await runsOf(schedule.id)).length;
    // A fire that had the schedule locked when the pause came committed before it; none after.
    await waitFor('a few seconds of pause', async () => Date.now() > pausedAt + 2500);
    const afterPause = await runsOf(schedule.id);
    expect(afterPause.every((r) => new Date(r.scheduledAt).getTime() <= pausedAt)).toBe(true);
    expect(afterPause.length).toBe(countAtPause);

    const resumed = await http('PATCH', `${api.url}/v1/schedules/${schedule.id}`, {
      paused: false,
    });
    expect(resumed.body.paused).toBe(false);
    // Resuming starts from the next time after now: the paused seconds are not caught up.
    const resumedAt = new Date(resumed.body.updatedAt).getTime();
    await waitFor('a run after resuming', async () => {
      const items = await runsOf(schedule.id);
      return items.some((r) => new Date(r.scheduledAt).getTime() > resumedAt);
    });
    const all = await runsOf(schedule.id);
    const inPause = all.filter((r) => {
      const t = new Date(r.scheduledAt).getTime();
      return t > pausedAt && t <= resumedAt - 1000;
    });
    expect(inPause).toEqual([]);

    expect((await http('DELETE', `${api.url}/v1/schedules/${schedule.id}`)).status).toBe(204);
    expect((await http('GET', `${api.url}/v1/schedules/${schedule.id}`)).status).toBe(404);
    const kept = await http('GET', `${api.url}/v1/jobs/${all[0].jobId}`);
    expect(kept.status).toBe(200);
  });

  it('starts a workflow, linked form included, once per fire', async () => {
    const created = await create({
      name: 'nightly-chain',
      cron: '* * * * * *',
      workflow: {
        name: 'chain',
        start_node: 'first',
        nodes: [
          { name: 'first', ...job, next_node: 'second' },
          { name: 'second', ...job },
        ],
      },
    });
    expect(created.status).toBe(201);
    // Stored in the dependsOn form.
    expect(created.body.workflow.nodes[1]).toMatchObject({ name: 'second', dependsOn: ['first'] });
    const [run] = await waitFor('a run', async () => {
      const items = await runsOf(created.body.id);
      return items.length > 0 ? items : null;
    });
    await http('PATCH', `${api.url}/v1/schedules/${created.body.id}`, { paused: true });
    const workflow = await http('GET', `${api.url}/v1/workflows/${run.workflowId}`);
    expect(workflow.body).toMatchObject({ name: 'chain', nodeCount: 2, status: 'running' });
    // The fire is an event too (webhooks hear of it), with the schedule in its data.
    const fired = await waitFor('the schedule_fired event', async () => {
      const events = await http('GET', `${api.url}/v1/events?workflowId=${run.workflowId}`);
      return events.body.items?.find((e: any) => e.type === 'schedule_fired');
    });
    expect(fired.data).toEqual({
      scheduleId: created.body.id,
      scheduleName: 'nightly-chain',
      scheduledAt: run.scheduledAt,
    });
  });

  it('with overlap cancel_previous, cancels the unfinished previous run and starts the next', async () => {
    const created = await create({
      name: 'replace-previous',
      cron: '* * * * * *',
      overlap: 'cancel_previous',
      job,
    });
    const runs = await waitFor('three runs', async () => {
      const items = await runsOf(created.body.id);
      return items.length >= 3 ? items : null;
    });
    await http('PATCH', `${api.url}/v1/schedules/${created.body.id}`, { paused: true });
    const [newest, ...older] = runs; // newest first
    for (const [i, run] of older.entries()) {
      const previous = await http('GET', `${api.url}/v1/jobs/${run.jobId}`);
      expect(previous.body.status).toBe('cancelled');
      expect(runs[i]!.reason).toBe(`cancelled the previous run (job ${run.jobId})`);
    }
    expect(newest.outcome).toBe('started');
  });

  it("keeps each tenant's schedules to itself", async () => {
    const key = await tenantWithKey(api, 'schedules-other');
    const mine = await create({ name: 'mine', cron: '0 0 1 1 *', job });
    const theirs = await http('GET', `${api.url}/v1/schedules/${mine.body.id}`, undefined, {
      authorization: `Bearer ${key}`,
    });
    expect(theirs.status).toBe(404);
    const list = await http('GET', `${api.url}/v1/schedules`, undefined, {
      authorization: `Bearer ${key}`,
    });
    expect(list.body.items).toEqual([]);
    const same = await create(
      { name: 'mine', cron: '0 0 1 1 *', job },
      {
        authorization: `Bearer ${key}`,
      },
    );
    expect(same.status).toBe(201);
  });
});

describe('danube schedules', () => {
  const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
  const danube = (...args: string[]) =>
    runCommand(process.execPath, [CLI, ...args], {
      cwd: __dirname,
      env: { DANUBE_API_URL: api.url, DANUBE_API_KEY: api.adminKey },
    });

  it('creates, lists, shows, pauses, resumes and deletes a schedule', async () => {
    const created = JSON.parse(
      await danube(
        '--json',
        'schedules',
        'create',
        'from-the-cli',
        '--cron',
        '0 6 * * 1-5',
        '--tz',
        'Europe/Berlin',
        '--overlap',
        'skip',
        '-t',
        'reports',
        '--',
        'echo',
        'hi',
      ),
    );
    expect(created).toMatchObject({
      name: 'from-the-cli',
      cron: '0 6 * * 1-5',
      timeZone: 'Europe/Berlin',
      overlap: 'skip',
      job: { topic: 'reports', command: ['echo', 'hi'] },
    });
    // 06:00 in Berlin on a weekday.
    const next = new Date(created.nextRunAt);
    expect([4, 5]).toContain(next.getUTCHours());
    expect(next.getUTCMinutes()).toBe(0);

    expect(await danube('schedules', 'list')).toContain('from-the-cli');
    expect(await danube('schedules', 'pause', created.id)).toContain('paused');
    expect(await danube('schedules', 'resume', created.id)).toContain('next run');
    expect(await danube('schedules', 'get', created.id)).toContain('0 6 * * 1-5 (Europe/Berlin)');
    expect(await danube('schedules', 'delete', created.id)).toBe(
      `schedule ${created.id} deleted\n`,
    );
  });

  it('says what is wrong with a bad cron', async () => {
    const failed = await danube('schedules', 'create', 'bad', '--cron', '99 * * * *', '--', 'true')
      .then(() => null)
      .catch((error: Error) => error.message);
    expect(failed).toContain('cron: the minute field "99" is invalid');
  });
});
