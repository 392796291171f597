import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, http, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { isAlive, waitFor } from './support/wait-for';

/** Workflows over HTTP, run by several real executor processes on one Postgres. */
let db: TestDatabase;
let api: TestApi;
const executors: ExecutorProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'danube-wf-'));

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  const processRuntime = {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'wf',
    EXECUTOR_CONCURRENCY: '8',
    EXECUTOR_KILL_GRACE_MS: '300',
  };
  const inline = {
    EXECUTOR_TOPICS: 'wf-inline',
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_BATCH_SIZE: '7',
    EXECUTOR_CONCURRENCY: '50',
    EXECUTOR_POLL_INTERVAL_MS: '100',
  };
  executors.push(
    ...(await Promise.all([
      startExecutor(db.url, 'wf-1', processRuntime),
      startExecutor(db.url, 'wf-2', processRuntime),
      startExecutor(db.url, 'wf-inline-1', inline),
      startExecutor(db.url, 'wf-inline-2', inline),
      startExecutor(db.url, 'wf-inline-3', inline),
    ])),
  );
});

afterAll(async () => {
  await Promise.all(executors.map((e) => e.stop()));
  await api?.close();
  await db?.drop();
});

type Node = Record<string, unknown> & { name: string };
const submit = (name: string, nodes: Node[], extra: Record<string, unknown> = {}) =>
  http('POST', `${api.url}/v1/workflows`, { name, nodes, ...extra });

async function untilDone(id: string, timeoutMs = 30_000) {
  return waitFor(
    `workflow ${id} to finish`,
    async () => {
      const { body } = await http('GET', `${api.url}/v1/workflows/${id}`);
      return body.status !== 'running' ? body : null;
    },
    timeoutMs,
    100,
  );
}

const node = (body: { nodes: { name: string }[] }, name: string) =>
  body.nodes.find((n) => n.name === name) as any;
const executionsOf = async (jobId: string) =>
  (await http('GET', `${api.url}/v1/jobs/${jobId}/executions`)).body.items;

describe('validation, before anything is stored', () => {
  const cases: Array<[string, Node[], RegExp, string[]]> = [
    [
      'duplicate names',
      [
        { name: 'a', topic: 'wf', command: 'true' },
        { name: 'a', topic: 'wf', command: 'true' },
      ],
      /duplicate node names: "a"/,
      ['a'],
    ],
    [
      'an unknown dependency',
      [{ name: 'a', topic: 'wf', command: 'true', dependsOn: ['ghost'] }],
      /node "a" depends on "ghost", which is not one of the nodes/,
      ['a', 'ghost'],
    ],
    [
      'a self-dependency',
      [{ name: 'a', topic: 'wf', command: 'true', dependsOn: ['a'] }],
      /node "a" depends on itself/,
      ['a'],
    ],
    [
      'a cycle',
      [
        { name: 'a', topic: 'wf', command: 'true' },
        { name: 'b', topic: 'wf', command: 'true', dependsOn: ['a', 'd'] },
        { name: 'c', topic: 'wf', command: 'true', dependsOn: ['b'] },
        { name: 'd', topic: 'wf', command: 'true', dependsOn: ['c'] },
      ],
      /the workflow has a cycle: (b -> c -> d -> b|c -> d -> b -> c|d -> b -> c -> d)/,
      ['b', 'c', 'd'],
    ],
    ['an empty workflow', [], /nodes must not be empty/, []],
    [
      'a bad job in a node',
      [{ name: 'a', topic: 'wf', command: 'true', timeoutSeconds: 600 }],
      /nodes\[0\]\.timeoutSeconds is 600/,
      [],
    ],
  ];

  it.each(cases)('%s -> 400 naming the nodes', async (_name, nodes, message, named) => {
    const response = await submit('bad', nodes);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
    if (named.length > 0)
      expect([...(response.body.details.nodes as string[])].sort()).toEqual([...named].sort());
  });

  it('more than DAG_MAX_NODES nodes -> 400', async () => {
    const nodes = Array.from({ length: 10_001 }, (_, i) => ({
      name: `n${i}`,
      topic: 'wf',
      command: 'true',
    }));
    const response = await submit('too-big', nodes);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(
      /nodes has 10001 nodes; a workflow may have at most 10000/,
    );
  });

  it('stored nothing', async () => {
    expect((await http('GET', `${api.url}/v1/workflows`)).body.items).toEqual([]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM danube.jobs');
    expect(rows[0].n).toBe(0);
  });
});

describe('a diamond A -> (B, C) -> D', () => {
  const diamond = (b: string, trigger = 'all_success'): Node[] => [
    { name: 'A', topic: 'wf', command: 'echo a' },
    { name: 'B', topic: 'wf', command: b, dependsOn: ['A'], maxAttempts: 1 },
    { name: 'C', topic: 'wf', command: 'sleep 0.3', dependsOn: ['A'] },
    { name: 'D', topic: 'wf', command: 'echo d', dependsOn: ['B', 'C'], trigger },
  ];

  it('runs D once, after both B and C', async () => {
    const created = await submit('diamond', diamond('sleep 0.1'));
    expect(created.status).toBe(201);
    const statuses = created.body.nodes.map((n: { name: string; status: string }) => [
      n.name,
      n.status,
    ]);
    // A may already have run by the time the answer is read back (it echoes one line), and
    // released B and C; D cannot have started: C alone takes 0.3 s.
    expect(statuses[3]).toEqual(['D', 'blocked']);
    for (const [, status] of statuses.slice(1, 3)) {
      expect(['blocked', 'queued', 'claimed', 'running']).toContain(status);
    }
    const done = await untilDone(created.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.counts).toEqual({ succeeded: 4 });
    const [b, c, d] = ['B', 'C', 'D'].map((n) => node(done, n));
    expect(Date.parse(d.startedAt)).toBeGreaterThanOrEqual(
      Math.max(Date.parse(b.finishedAt), Date.parse(c.finishedAt)),
    );
    expect(await executionsOf(d.jobId)).toHaveLength(1);
  });

  it('with B failing: D is skipped naming B, and the workflow failed', async () => {
    const done = await untilDone((await submit('diamond-fails', diamond('exit 3'))).body.id);
    expect(done.status).toBe('failed');
    expect(node(done, 'B')).toMatchObject({
      status: 'failed',
      error: { category: 'transient', exitCode: 3 },
    });
    expect(node(done, 'C').status).toBe('succeeded');
    expect(node(done, 'D')).toMatchObject({
      status: 'skipped',
      skipReason: 'upstream node "B" failed',
    });
    expect(await executionsOf(node(done, 'D').jobId)).toEqual([]);
  });

  it('with B failing and D all_done: D runs', async () => {
    const done = await untilDone(
      (await submit('diamond-all-done', diamond('exit 3', 'all_done'))).body.id,
    );
    expect(node(done, 'D').status).toBe('succeeded');
    expect(done.status).toBe('failed');
  });

  it('one_success runs on the first parent that succeeds', async () => {
    const nodes: Node[] = [
      { name: 'fast', topic: 'wf', command: 'true' },
      { name: 'slow', topic: 'wf', command: 'sleep 2' },
      {
        name: 'either',
        topic: 'wf',
        command: 'true',
        dependsOn: ['fast', 'slow'],
        trigger: 'one_success',
      },
    ];
    const done = await untilDone((await submit('one-success', nodes)).body.id);
    expect(done.status).toBe('succeeded');
    expect(Date.parse(node(done, 'either').startedAt)).toBeLessThan(
      Date.parse(node(done, 'slow').finishedAt),
    );
  });
});

it('fan-in race: 50 parents finishing at once on three executors queue their child exactly once (20 rounds)', async () => {
  for (let round = 0; round < 20; round++) {
    const parents = Array.from({ length: 50 }, (_, i) => ({
      name: `p${i}`,
      topic: 'wf-inline',
      command: 'true',
    }));
    const nodes = [
      ...parents,
      { name: 'child', topic: 'wf-inline', command: 'true', dependsOn: parents.map((p) => p.name) },
    ];
    const done = await untilDone((await submit(`race-${round}`, nodes)).body.id);
    expect(done.status).toBe('succeeded');
    const child = node(done, 'child');
    expect(await executionsOf(child.jobId)).toHaveLength(1);
    const { rows } = await db.pool.query(
      'SELECT pending_parents, succeeded_parents, failed_parents FROM danube.jobs WHERE id = $1',
      [child.jobId],
    );
    expect(rows[0]).toEqual({ pending_parents: 0, succeeded_parents: 50, failed_parents: 0 });
  }
  const { rows } = await db.pool.query(`
    SELECT count(DISTINCT e.executor_id)::int AS executors FROM danube.executions e
    JOIN danube.jobs j ON j.id = e.job_id WHERE j.topic = 'wf-inline'`);
  expect(rows[0].executors).toBe(3);
});

it('cancel mid-workflow stops the running node and skips the rest', async () => {
  const pidFile = join(scratch, 'wf-cancel.pid');
  const created = await submit('to-cancel', [
    { name: 'long', topic: 'wf', command: `echo $$ > ${pidFile}; exec sleep 30` },
    { name: 'after', topic: 'wf', command: 'true', dependsOn: ['long'] },
    {
      name: 'parallel',
      topic: 'wf',
      command: 'true',
      runAt: new Date(Date.now() + 60_000).toISOString(),
    },
  ]);
  await waitFor(
    'the long node to run',
    () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
  );
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const cancelled = await http('POST', `${api.url}/v1/workflows/${created.body.id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  const done = await waitFor('every node to end', async () => {
    const { body } = await http('GET', `${api.url}/v1/workflows/${created.body.id}`);
    return body.finishedAt ? body : null;
  });
  expect(node(done, 'long').status).toBe('cancelled');
  expect(node(done, 'after')).toMatchObject({ status: 'skipped' });
  expect(node(done, 'parallel')).toMatchObject({
    status: 'skipped',
    skipReason: 'the workflow was cancelled',
  });
  expect(isAlive(pid)).toBe(false);
  expect((await http('POST', `${api.url}/v1/workflows/${created.body.id}/cancel`)).status).toBe(
    409,
  );
});

it('retry of a failed workflow re-runs the failed and skipped nodes and keeps the succeeded ones', async () => {
  const marker = join(scratch, 'flaky-once');
  const created = await submit('retry-me', [
    { name: 'A', topic: 'wf', command: 'true' },
    {
      name: 'B',
      topic: 'wf',
      command: `test -f ${marker} || { touch ${marker}; exit 3; }`,
      dependsOn: ['A'],
      maxAttempts: 1,
    },
    { name: 'C', topic: 'wf', command: 'true', dependsOn: ['A'] },
    { name: 'D', topic: 'wf', command: 'true', dependsOn: ['B', 'C'] },
  ]);
  const failed = await untilDone(created.body.id);
  expect(failed.status).toBe('failed');
  expect((await http('POST', `${api.url}/v1/jobs/${node(failed, 'B').jobId}/retry`)).status).toBe(
    409,
  );
  const retried = await http('POST', `${api.url}/v1/workflows/${created.body.id}/retry`);
  expect(retried.status).toBe(200);
  expect(retried.body.status).toBe('running');
  const done = await untilDone(created.body.id);
  expect(done.status).toBe('succeeded');
  expect(await executionsOf(node(done, 'A').jobId)).toHaveLength(1);
  expect(await executionsOf(node(done, 'C').jobId)).toHaveLength(1);
  expect(
    (await executionsOf(node(done, 'B').jobId)).map((e: { outcome: string }) => e.outcome),
  ).toEqual(['failed', 'succeeded']);
  expect(await executionsOf(node(done, 'D').jobId)).toHaveLength(1);
  expect((await http('POST', `${api.url}/v1/workflows/${created.body.id}/retry`)).status).toBe(409);
});

it("children see their parents' results as DANUBE_PARENT_RESULTS; the linked form runs as a chain", async () => {
  const created = await submit(
    'pipeline',
    [
      {
        name: 'generate',
        topic: 'wf',
        command: 'echo \'{"rows": 3}\' > "$DANUBE_RESULT_FILE"',
        next_node: 'analyse',
      },
      {
        name: 'analyse',
        topic: 'wf',
        command: 'echo "$DANUBE_PARENT_RESULTS" > "$DANUBE_RESULT_FILE"',
        next_node: 'report',
      },
      {
        name: 'report',
        topic: 'wf',
        command: 'echo "$DANUBE_NODE_NAME of workflow $DANUBE_WORKFLOW_ID"',
      },
    ],
    { start_node: 'generate' },
  );
  expect(created.status).toBe(201);
  const done = await untilDone(created.body.id);
  expect(done.status).toBe('succeeded');
  const analyse = (await http('GET', `${api.url}/v1/jobs/${node(done, 'analyse').jobId}`)).body;
  expect(analyse.result).toEqual({ generate: { rows: 3 } });
  const logs = (await http('GET', `${api.url}/v1/jobs/${node(done, 'report').jobId}/logs`)).body
    .lines;
  expect(logs.map((l: { line: string }) => l.line)).toEqual([
    `report of workflow ${created.body.id}`,
  ]);
  const graph = (await http('GET', `${api.url}/v1/workflows/${created.body.id}/graph`)).body;
  expect(graph.edges).toEqual(
    expect.arrayContaining([
      { from: 'generate', to: 'analyse' },
      { from: 'analyse', to: 'report' },
    ]),
  );
  expect(graph.nodes.map((n: { status: string }) => n.status)).toEqual([
    'succeeded',
    'succeeded',
    'succeeded',
  ]);
  expect(
    (await http('GET', `${api.url}/v1/workflows?status=succeeded`)).body.items.map(
      (w: { id: string }) => w.id,
    ),
  ).toContain(created.body.id);
});

it("a node's steps join its workflow's graph without counting as nodes; a child lists its parent's artifacts", async () => {
  const sdk = JSON.stringify(join(__dirname, '..', 'dist', 'libs', 'sdk', 'src', 'index.js'));
  const make = `
    const sdk = require(${sdk}); const fs = require('fs');
    (async () => {
      const step = await sdk.step.run('echo from the step', { name: 'inner' });
      fs.writeFileSync('table.csv', 'a,b\\n1,2\\n');
      await sdk.artifacts.upload('table.csv');
      fs.writeFileSync(process.env.DANUBE_RESULT_FILE, JSON.stringify({ step: step.stdout }));
      sdk.close();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const use = `
    const ids = JSON.parse(process.env.DANUBE_PARENT_JOB_IDS);
    fetch(process.env.DANUBE_API_URL + '/v1/jobs/' + ids.make + '/artifacts',
      { headers: { authorization: 'Bearer ' + process.env.API_KEY } })
      .then((r) => r.json())
      .then((b) => require('fs').writeFileSync(process.env.DANUBE_RESULT_FILE,
        JSON.stringify(b.items.map((a) => a.path + ':' + a.size))));`;
  const created = await submit('with-steps', [
    { name: 'make', topic: 'wf', command: ['node', '-e', make] },
    {
      name: 'use',
      topic: 'wf',
      command: ['node', '-e', use],
      env: { API_KEY: api.adminKey },
      dependsOn: ['make'],
    },
  ]);
  expect(created.status).toBe(201);
  const done = await untilDone(created.body.id);
  expect(done).toMatchObject({ status: 'succeeded', nodeCount: 2 });
  const makeJob = (await http('GET', `${api.url}/v1/jobs/${node(done, 'make').jobId}`)).body;
  expect(makeJob.result).toEqual({ step: 'from the step\n' });
  const useJob = (await http('GET', `${api.url}/v1/jobs/${node(done, 'use').jobId}`)).body;
  expect(useJob.result).toEqual(['table.csv:8']);

  const graph = (await http('GET', `${api.url}/v1/workflows/${created.body.id}/graph`)).body;
  const step = graph.nodes.find((n: { name: string }) => n.name === 'make/inner');
  expect(step).toMatchObject({ status: 'succeeded', stepOf: makeJob.id });
  expect(graph.nodes.filter((n: { stepOf: string | null }) => n.stepOf === null)).toHaveLength(2);
  const stepJob = (await http('GET', `${api.url}/v1/jobs/${step.jobId}`)).body;
  expect(stepJob).toMatchObject({ workflowId: created.body.id, parentJobId: makeJob.id });
});

it('a 10,000-node layered workflow validates and completes', async () => {
  const layers = 100;
  const width = 100;
  const nodes: Node[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      const dependsOn =
        layer === 0 ? undefined : [`l${layer - 1}n${i}`, `l${layer - 1}n${(i + 1) % width}`];
      nodes.push({ name: `l${layer}n${i}`, topic: 'wf-inline', command: 'true', dependsOn });
    }
  }
  const submitted = Date.now();
  const created = await submit('ten-thousand', nodes);
  const submitMs = Date.now() - submitted;
  expect(created.status).toBe(201);
  expect(created.body.nodeCount).toBe(10_000);
  const done = await untilDone(created.body.id, 240_000);
  const totalMs = Date.now() - submitted;
  expect(done.status).toBe('succeeded');
  expect(done.counts).toEqual({ succeeded: 10_000 });
  const { rows } = await db.pool.query(
    'SELECT count(*)::int AS n FROM danube.executions e JOIN danube.jobs j ON j.id = e.job_id WHERE j.workflow_id = $1',
    [created.body.id],
  );
  expect(rows[0].n).toBe(10_000);
  process.stdout.write(
    `10,000-node workflow (19,800 edges, 3 inline executors): submit ${submitMs} ms, submit to done ${totalMs} ms\n`,
  );
}, 300_000);

it('examples/data-pipeline.json: generate a CSV -> analyse it -> write a report', async () => {
  const example = JSON.parse(
    readFileSync(join(__dirname, '..', 'examples', 'data-pipeline.json'), 'utf8'),
  );
  const nodes = example.nodes.map((n: Node) => ({ ...n, topic: 'wf' }));
  const created = await submit(example.name, nodes);
  expect(created.status).toBe(201);
  const done = await untilDone(created.body.id);
  expect(done.status).toBe('succeeded');
  const report = (await http('GET', `${api.url}/v1/jobs/${node(done, 'report').jobId}`)).body;
  expect(report.result.report[0]).toBe('Weekly temperature report');
  expect(report.result.report).toHaveLength(5);
  const analyse = (await http('GET', `${api.url}/v1/jobs/${node(done, 'analyse').jobId}`)).body;
  expect(analyse.result.Vienna.days).toBe(7);
});

describe('bad input on the workflow endpoints', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['nodes that is not an array', { name: 'x', nodes: 'a' }, /nodes must be an array/],
    [
      'a node that is an array',
      { name: 'x', nodes: [{ name: 'a', topic: 'wf', command: 'true' }, []] },
      /nodes\.1 must be an object, not an array/,
    ],
    [
      'a backoff that is an array',
      { name: 'x', nodes: [{ name: 'a', topic: 'wf', command: 'true', backoff: [] }] },
      /nodes\.0\.backoff must be an object, not an array/,
    ],
    ['a missing name', { nodes: [{ name: 'a', topic: 'wf', command: 'true' }] }, /name must be/],
    [
      'an unknown trigger',
      { name: 'x', nodes: [{ name: 'a', topic: 'wf', command: 'true', trigger: 'some' }] },
      /nodes\.0\.trigger must be one of/,
    ],
    [
      'an unknown field in a node',
      { name: 'x', nodes: [{ name: 'a', topic: 'wf', command: 'true', colour: 1 }] },
      /property nodes\.0\.colour should not exist/,
    ],
    [
      'dependsOn in the linked form',
      {
        name: 'x',
        start_node: 'a',
        nodes: [{ name: 'a', topic: 'wf', command: 'true', dependsOn: [] }],
      },
      /start_node makes this a linked workflow: use next_node/,
    ],
    [
      'next_node without start_node',
      { name: 'x', nodes: [{ name: 'a', topic: 'wf', command: 'true', next_node: 'b' }] },
      /a linked workflow also needs start_node/,
    ],
    [
      'an unknown start_node',
      { name: 'x', start_node: 'z', nodes: [{ name: 'a', topic: 'wf', command: 'true' }] },
      /start_node "z" is not one of the nodes/,
    ],
    [
      'a node the chain from start_node never reaches',
      {
        name: 'x',
        start_node: 'a',
        nodes: [
          { name: 'a', topic: 'wf', command: 'true', next_node: 'b' },
          { name: 'b', topic: 'wf', command: 'true' },
          { name: 'c', topic: 'wf', command: 'true' },
        ],
      },
      /^"c" cannot be reached from start_node "a" through next_node/,
    ],
  ];

  it.each(bad)('%s -> 400 with a message', async (_name, body, message) => {
    const response = await http('POST', `${api.url}/v1/workflows`, body);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
  });

  it('ids: unknown -> 404, malformed -> 400, bad filters -> 400', async () => {
    const unknown = await http('GET', `${api.url}/v1/workflows/999999`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('workflow 999999 does not exist');
    expect((await http('POST', `${api.url}/v1/workflows/999999/cancel`)).status).toBe(404);
    expect((await http('POST', `${api.url}/v1/workflows/999999/retry`)).status).toBe(404);
    expect((await http('GET', `${api.url}/v1/workflows/abc/graph`)).status).toBe(400);
    expect((await http('GET', `${api.url}/v1/workflows?status=done`)).status).toBe(400);
  });
});
