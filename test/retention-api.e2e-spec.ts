import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { loadApiOptions } from '../apps/api/src/api.config';
import { filesPresent, rowsOf, seedJobs, writeArtifactFiles, NOTHING } from './retention-seed';
import { http, startApi, type HttpResult, type TestApi } from './support/api';
import { bearer, keyFor, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * GET/PUT /v1/retention and POST /v1/retention/sweep on the real API, with graphile-worker
 * running its chores; every answer is checked against the served OpenAPI document.
 */
let db: TestDatabase;
let api: TestApi;
let spec: any;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'on' });
  spec = (await http('GET', `${api.url}/docs-json`)).body;
  ajv.addSchema({ $id: 'openapi.json', components: spec.components });
  await waitFor(
    'graphile-worker to run chores',
    async () => (await http('GET', `${api.url}/readyz`)).body?.info?.housekeeping?.status === 'up',
    30_000,
  );
}, 60_000);

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** Calls the API and checks the answer against the served document: status and body. */
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = api.url,
): Promise<HttpResult> {
  const result = await http(method, `${base}${path}`, body, headers);
  const operation = spec.paths[path]?.[method.toLowerCase()];
  expect({ route: `${method} ${path}`, documented: operation !== undefined }).toEqual({
    route: `${method} ${path}`,
    documented: true,
  });
  const response = operation.responses[String(result.status)];
  expect({ route: `${method} ${path}`, status: result.status, documented: !!response }).toEqual({
    route: `${method} ${path}`,
    status: result.status,
    documented: true,
  });
  const schema = JSON.parse(
    JSON.stringify(response.content['application/json'].schema).replaceAll(
      '"#/components/',
      '"openapi.json#/components/',
    ),
  );
  const validate = ajv.compile(schema);
  validate(result.body);
  expect({ route: `${method} ${path}`, errors: validate.errors ?? [] }).toEqual({
    route: `${method} ${path}`,
    errors: [],
  });
  return result;
}

const POLICY = {
  default: { keepDays: 14, keepFailedDays: 60, maxLogBytesPerAttempt: 1_048_576 },
  topics: [
    { topic: 'nightly-reports', keepDays: 90, keepFailedDays: null, maxLogBytesPerAttempt: null },
    { topic: 'ci.builds', keepDays: 3, keepFailedDays: 7, maxLogBytesPerAttempt: 65_536 },
  ],
};

it('shows the built-in default (RETENTION_DAYS, 30) to a tenant that set nothing; PUT replaces the policy and GET shows it back', async () => {
  const initial = await call('GET', '/v1/retention');
  expect(initial).toEqual({
    status: 200,
    body: {
      tenant: 'default',
      default: { keepDays: 30, keepFailedDays: null, maxLogBytesPerAttempt: null, builtIn: true },
      topics: [],
    },
  });

  const put = await call('PUT', '/v1/retention', POLICY);
  const expected = {
    tenant: 'default',
    default: { ...POLICY.default, builtIn: false },
    // Listed by topic.
    topics: [POLICY.topics[1], POLICY.topics[0]],
  };
  expect(put).toEqual({ status: 200, body: expected });
  expect(await call('GET', '/v1/retention')).toEqual({ status: 200, body: expected });

  // A rule's optional fields left out are null; a policy without a default has the built-in one.
  const topicsOnly = await call('PUT', '/v1/retention', {
    topics: [{ topic: 'nightly-reports', keepDays: 90 }],
  });
  expect(topicsOnly.body).toEqual({
    tenant: 'default',
    default: { keepDays: 30, keepFailedDays: null, maxLogBytesPerAttempt: null, builtIn: true },
    topics: [POLICY.topics[0]],
  });
  expect((await call('PUT', '/v1/retention', POLICY)).status).toBe(200);
});

it.each([
  ['negative days', 'default.keepDays', { default: { keepDays: -1 } }],
  ['no days', 'topics.0.keepDays', { topics: [{ topic: 'etl' }] }],
  ['days as a string', 'default.keepDays', { default: { keepDays: '30' } }],
  [
    'failed jobs kept shorter',
    'default.keepFailedDays',
    { default: { keepDays: 30, keepFailedDays: 7 } },
  ],
  [
    'failed jobs kept shorter, in a topic rule',
    'topics.1.keepFailedDays',
    {
      topics: [
        { topic: 'etl', keepDays: 30 },
        { topic: 'ml', keepDays: 9, keepFailedDays: 8 },
      ],
    },
  ],
  ['an unknown field', 'keepForever', { default: { keepDays: 30 }, keepForever: true }],
  ['an unknown field in a rule', 'default.keepHours', { default: { keepDays: 30, keepHours: 1 } }],
  ['a bad topic', 'topics.0.topic', { topics: [{ topic: 'no spaces, please', keepDays: 1 }] }],
  [
    'a topic given twice',
    'topics.1.topic',
    {
      topics: [
        { topic: 'etl', keepDays: 1 },
        { topic: 'etl', keepDays: 2 },
      ],
    },
  ],
  [
    'a log cap too small to read',
    'default.maxLogBytesPerAttempt',
    { default: { keepDays: 30, maxLogBytesPerAttempt: 100 } },
  ],
  ['topics not a list', 'topics', { topics: { etl: { keepDays: 1 } } }],
])('refuses %s with a 400 naming %s, and changes nothing', async (_, field, body) => {
  const before = await call('GET', '/v1/retention');
  const refused = await call('PUT', '/v1/retention', body);
  expect(refused.status).toBe(400);
  expect(refused.body.message).toContain(field);
  expect(await call('GET', '/v1/retention')).toEqual(before);
});

it('lets a viewer read the policy but only an admin change it or ask for a sweep', async () => {
  const viewer = bearer(await keyFor(api, 'default', 'viewer'));
  const member = bearer(await keyFor(api, 'default', 'member'));
  expect((await call('GET', '/v1/retention', undefined, viewer)).status).toBe(200);
  for (const headers of [viewer, member]) {
    expect((await call('PUT', '/v1/retention', POLICY, headers)).status).toBe(403);
    expect((await call('POST', '/v1/retention/sweep', undefined, headers)).status).toBe(403);
  }
  expect((await call('GET', '/v1/retention', undefined, { authorization: '' })).status).toBe(401);
  // Each tenant has its own: another tenant's viewer sees the built-in default.
  const theirs = bearer(await tenantWithKey(api, 'other-team', { role: 'viewer' }));
  expect((await call('GET', '/v1/retention', undefined, theirs)).body).toMatchObject({
    tenant: 'other-team',
    default: { keepDays: 30, builtIn: true },
  });
});

it('POST /v1/retention/sweep has graphile-worker run the sweep: old jobs and their files go, and the metrics count them', async () => {
  // The default tenant keeps 14 days (60 if failed) since the first test.
  const old = await seedJobs(db.pool, {
    topic: 'etl',
    count: 50,
    statuses: ['succeeded'],
    finishedDaysAgo: 20,
    logLines: 3,
    artifacts: true,
  });
  const kept = await seedJobs(db.pool, {
    topic: 'etl',
    count: 10,
    statuses: ['failed'],
    finishedDaysAgo: 20,
    logLines: 3,
    artifacts: true,
  });
  const oldKeys = await writeArtifactFiles(db.pool, api.artifactDir, old);
  const keptKeys = await writeArtifactFiles(db.pool, api.artifactDir, kept);
  const keptRows = await rowsOf(db.pool, kept);

  const asked = await call('POST', '/v1/retention/sweep', {});
  expect(asked.status).toBe(202);
  expect(Date.parse(asked.body.requestedAt)).not.toBeNaN();

  // Files go after the rows' transaction has committed: the sweep is done when both are gone.
  await waitFor(
    'the sweep to delete the old jobs and their files',
    async () =>
      (await rowsOf(db.pool, old)).jobs === 0 && filesPresent(api.artifactDir, oldKeys) === 0,
    20_000,
  );
  expect(await rowsOf(db.pool, old)).toEqual(NOTHING);
  expect(await rowsOf(db.pool, kept)).toEqual(keptRows);
  expect(filesPresent(api.artifactDir, keptKeys)).toBe(keptKeys.length);

  const metrics = await waitFor('the sweep to be counted', async () => {
    const text = String((await http('GET', `${api.url}/metrics`)).body);
    return /danube_retention_deleted_total\{kind="artifacts"\} 50\b/.test(text) ? text : null;
  });
  expect(metrics).toMatch(/danube_retention_deleted_total\{kind="jobs"\} 50\b/);
  expect(metrics).toMatch(/danube_retention_deleted_total\{kind="logs"\} 150\b/);
  expect(metrics).toMatch(/danube_retention_deleted_total\{kind="workflows"\} 0\b/);
  const audit = await http('GET', `${api.url}/v1/audit?limit=50`);
  expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(
    expect.arrayContaining(['retention.replace', 'retention.sweep']),
  );
});

it('a replica that runs no chores hands the sweep to one that does, and has its own RETENTION_DAYS', async () => {
  const quiet = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'off', RETENTION_DAYS: '7' });
  try {
    const viewer = bearer(await keyFor(api, 'other-team', 'viewer'));
    expect((await call('GET', '/v1/retention', undefined, viewer, quiet.url)).body).toMatchObject({
      default: { keepDays: 7, builtIn: true },
    });
    const old = await seedJobs(db.pool, {
      topic: 'etl',
      count: 5,
      statuses: ['cancelled'],
      finishedDaysAgo: 20,
    });
    expect((await call('POST', '/v1/retention/sweep', {}, {}, quiet.url)).status).toBe(202);
    await waitFor(
      'the sweep to delete the old jobs',
      async () => (await rowsOf(db.pool, old)).jobs === 0,
      20_000,
    );
  } finally {
    await quiet.close();
  }
});

it('RETENTION_DAYS is checked at start, with one line naming it', () => {
  const url = 'postgres://danube@127.0.0.1:5432/danube';
  expect(loadApiOptions({ DATABASE_URL: url }).housekeeping.retentionDays).toBe(30);
  expect(
    loadApiOptions({ DATABASE_URL: url, RETENTION_DAYS: '90' }).housekeeping.retentionDays,
  ).toBe(90);
  expect(() => loadApiOptions({ DATABASE_URL: url, RETENTION_DAYS: '0' })).toThrow(
    /RETENTION_DAYS must be at least 1/,
  );
  expect(() => loadApiOptions({ DATABASE_URL: url, RETENTION_DAYS: 'a month' })).toThrow(
    /RETENTION_DAYS must be a whole number of days/,
  );
});
