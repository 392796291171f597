import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startApi, jobEnded, type TestApi } from './support/api';
import { withApiKey } from './support/api-keys';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The served OpenAPI document (/docs-json) says what every route answers; this suite calls
 * every route, for its successes and its usual errors, and checks each real answer against
 * the document: the status must be listed for that operation, and a JSON body must match
 * the schema given for it. A route missing from the calls below fails the last test, so a
 * new route cannot go unchecked, and the document cannot drift from what the API does.
 */
const SDK_JOB = join(__dirname, '..', 'dist', 'examples', 'typescript', 'sdk-job.js');

let db: TestDatabase;
let api: TestApi;
let executor: ExecutorProcess;
let spec: any;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();
/** "GET /v1/jobs/{id}" -> the statuses seen. */
const seen = new Map<string, Set<number>>();

beforeAll(async () => {
  db = await createTestDatabase();
  // Housekeeping on: POST /v1/retention/sweep queues through graphile-worker.
  api = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'on' });
  executor = await startExecutor(db.url, 'openapi-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'openapi',
    SDK_JOB_UPLOAD_BYTES: '1000',
  });
  const response = await fetch(`${api.url}/docs-json`);
  expect(response.status).toBe(200);
  spec = await response.json();
  // Response schemas refer to '#/components/...' of the document: resolve them there.
  ajv.addSchema({ $id: 'openapi.json', components: spec.components });
}, 60_000);

afterAll(async () => {
  await executor?.stop();
  await api?.close();
  await db?.drop();
});

interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body as it is, without content-type: application/json. */
  raw?: string;
}

/**
 * Calls `method template` and checks the answer against the document; returns the status
 * and the parsed body.
 */
async function call(
  method: string,
  template: string,
  { params = {}, query, body, headers = {}, raw }: Call = {},
): Promise<{ status: number; body: any }> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(params[name]!),
  );
  const url = `${api.url}${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
  const response = await fetch(url, {
    method,
    headers: withApiKey(api.url, {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    }),
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const route = `${method} ${template}`;
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${route} is not in the served OpenAPI document`);
  const status = response.status;
  if (!seen.has(route)) seen.set(route, new Set());
  seen.get(route)!.add(status);

  const documented = operation.responses[String(status)];
  const contentType = response.headers.get('content-type') ?? '';
  const text = contentType.startsWith('application/json') ? await response.text() : null;
  const parsed = text === null || text === '' ? null : JSON.parse(text);
  expect({ route, status, documented: documented !== undefined, body: parsed }).toEqual({
    route,
    status,
    documented: true,
    body: parsed,
  });
  const content = documented.content as Record<string, { schema: object }> | undefined;
  if (!content) {
    expect({ route, status, body: text ?? (await response.text()) }).toEqual({
      route,
      status,
      body: '',
    });
  } else if (content['application/json']) {
    expect({ route, status, contentType }).toEqual({
      route,
      status,
      contentType: expect.stringMatching(/^application\/json/),
    });
    const validate = validatorFor(route, status, content['application/json'].schema);
    validate(parsed);
    expect({ route, status, errors: validate.errors ?? [], body: parsed }).toEqual({
      route,
      status,
      errors: [],
      body: parsed,
    });
  } else {
    const [type] = Object.keys(content);
    expect({ route, status, documented: type }).toEqual({
      route,
      status,
      documented: expect.any(String),
    });
    await response.arrayBuffer();
  }
  return { status, body: parsed };
}

function validatorFor(route: string, status: number, schema: object): ValidateFunction {
  const key = `${route} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    const resolved = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'),
    );
    validate = ajv.compile(resolved);
    validators.set(key, validate);
  }
  return validate;
}

async function expectStatus(
  expected: number,
  method: string,
  template: string,
  options?: Call,
): Promise<any> {
  const { status, body } = await call(method, template, options);
  expect({ route: `${method} ${template}`, status, body }).toEqual({
    route: `${method} ${template}`,
    status: expected,
    body,
  });
  return body;
}

const LATER = '2099-01-01T00:00:00Z';

describe('every route answers as the served OpenAPI document says', () => {
  let jobId: string;
  let artifactId: string;

  it('jobs: submit, list, read, why, executions, logs, artifacts, cancel, retry', async () => {
    await expectStatus(201, 'PUT', '/v1/secrets/{name}', {
      params: { name: 'api-token' },
      body: { value: 's3cr3t' },
    });
    const submitted = await expectStatus(201, 'POST', '/v1/jobs', {
      body: {
        topic: 'openapi',
        command: ['node', SDK_JOB],
        secrets: ['api-token'],
        noRetryExitCodes: [2],
        idempotencyKey: 'openapi-sdk-job',
        labels: { suite: 'openapi' },
      },
    });
    jobId = submitted.id;
    // The same idempotency key again: the stored job, 200.
    await expectStatus(200, 'POST', '/v1/jobs', {
      body: { topic: 'openapi', command: ['node', SDK_JOB], idempotencyKey: 'openapi-sdk-job' },
    });
    const job = await jobEnded(api.url, jobId);
    expect(job.status).toBe('succeeded');

    await expectStatus(200, 'GET', '/v1/jobs/{id}', { params: { id: jobId } });
    await expectStatus(200, 'GET', '/v1/jobs', { query: { topic: 'openapi', limit: '5' } });
    await expectStatus(200, 'GET', '/v1/jobs/{id}/why', { params: { id: jobId } });
    await expectStatus(200, 'GET', '/v1/jobs/{id}/executions', { params: { id: jobId } });
    await expectStatus(200, 'GET', '/v1/jobs/{id}/logs', { params: { id: jobId } });
    const artifacts = await expectStatus(200, 'GET', '/v1/jobs/{id}/artifacts', {
      params: { id: jobId },
    });
    artifactId = artifacts.items[0].id;
    await expectStatus(200, 'GET', '/v1/artifacts/{id}', { params: { id: artifactId } });

    const batch = await expectStatus(201, 'POST', '/v1/jobs/batch', {
      body: { jobs: [{ topic: 'openapi-later', command: 'true', runAt: LATER }] },
    });
    const later = batch.jobs[0].id;
    await expectStatus(200, 'POST', '/v1/jobs/{id}/cancel', { params: { id: later } });
    await expectStatus(409, 'POST', '/v1/jobs/{id}/cancel', { params: { id: later } });
    await expectStatus(200, 'POST', '/v1/jobs/{id}/retry', { params: { id: later } });
    await expectStatus(409, 'POST', '/v1/jobs/{id}/retry', { params: { id: later } });
  }, 120_000);

  it('jobs: the usual errors', async () => {
    await expectStatus(400, 'POST', '/v1/jobs', { body: { topic: 'openapi' } });
    await expectStatus(400, 'POST', '/v1/jobs', {
      body: { topic: 'openapi', command: 'true', noRetryExitCodes: ['2'] },
    });
    await expectStatus(415, 'POST', '/v1/jobs', {
      raw: JSON.stringify({ topic: 'openapi', command: 'true' }),
      headers: { 'content-type': 'text/plain' },
    });
    await expectStatus(413, 'POST', '/v1/jobs', {
      body: { topic: 'openapi', command: 'x'.repeat(6 * 1024 * 1024) },
    });
    await expectStatus(400, 'POST', '/v1/jobs/batch', { body: { jobs: [] } });
    await expectStatus(404, 'GET', '/v1/jobs/{id}', { params: { id: '999999999' } });
    await expectStatus(400, 'GET', '/v1/jobs/{id}', { params: { id: 'abc' } });
    await expectStatus(400, 'GET', '/v1/jobs', { query: { status: 'bogus' } });
    await expectStatus(404, 'GET', '/v1/jobs/{id}/why', { params: { id: '999999999' } });
    await expectStatus(404, 'GET', '/v1/jobs/{id}/executions', { params: { id: '999999999' } });
    await expectStatus(404, 'GET', '/v1/jobs/{id}/logs', { params: { id: '999999999' } });
    await expectStatus(404, 'GET', '/v1/jobs/{id}/artifacts', { params: { id: '999999999' } });
    await expectStatus(404, 'GET', '/v1/artifacts/{id}', { params: { id: '999999999' } });
    await expectStatus(401, 'GET', '/v1/jobs', { headers: { authorization: 'Bearer nope' } });
  });

  it('workflows: submit, list, read, graph, cancel, retry, and their errors', async () => {
    const workflow = await expectStatus(201, 'POST', '/v1/workflows', {
      body: {
        name: 'openapi-flow',
        nodes: [
          { name: 'a', topic: 'openapi-later', command: 'true', runAt: LATER },
          { name: 'b', topic: 'openapi-later', command: 'true', dependsOn: ['a'] },
        ],
      },
    });
    const params = { id: workflow.id };
    await expectStatus(200, 'GET', '/v1/workflows', { query: { limit: '5' } });
    await expectStatus(200, 'GET', '/v1/workflows/{id}', { params });
    await expectStatus(200, 'GET', '/v1/workflows/{id}/graph', { params });
    await expectStatus(200, 'POST', '/v1/workflows/{id}/cancel', { params });
    await expectStatus(200, 'POST', '/v1/workflows/{id}/retry', { params });
    await expectStatus(400, 'POST', '/v1/workflows', {
      body: {
        name: 'cyclic',
        nodes: [{ name: 'a', topic: 't', command: 'true', dependsOn: ['a'] }],
      },
    });
    await expectStatus(404, 'GET', '/v1/workflows/{id}', { params: { id: '999999999' } });
    await expectStatus(404, 'GET', '/v1/workflows/{id}/graph', { params: { id: '999999999' } });
    await expectStatus(404, 'POST', '/v1/workflows/{id}/cancel', { params: { id: '999999999' } });
    await expectStatus(404, 'POST', '/v1/workflows/{id}/retry', { params: { id: '999999999' } });
  });

  it('fleet, events, secrets, health', async () => {
    await expectStatus(200, 'GET', '/v1/topics');
    await expectStatus(200, 'GET', '/v1/executors');
    await expectStatus(200, 'GET', '/v1/events', { query: { limit: '10' } });
    await expectStatus(400, 'GET', '/v1/events', { query: { after: 'not-a-cursor' } });
    await expectStatus(200, 'PUT', '/v1/secrets/{name}', {
      params: { name: 'api-token' },
      body: { value: 'replaced' },
    });
    await expectStatus(400, 'PUT', '/v1/secrets/{name}', {
      params: { name: 'bad name!' },
      body: { value: 'x' },
    });
    await expectStatus(200, 'GET', '/v1/secrets');
    await expectStatus(204, 'DELETE', '/v1/secrets/{name}', { params: { name: 'api-token' } });
    await expectStatus(404, 'DELETE', '/v1/secrets/{name}', { params: { name: 'api-token' } });
    await expectStatus(200, 'GET', '/healthz');
    await expectStatus(200, 'GET', '/readyz');
  });

  it('tenants, keys, image rules, audit, usage; roles and quotas', async () => {
    await expectStatus(201, 'POST', '/v1/tenants', {
      body: { name: 'openapi-team', quotas: { maxQueued: 1, maxRunning: 2 } },
    });
    await expectStatus(409, 'POST', '/v1/tenants', { body: { name: 'openapi-team' } });
    await expectStatus(200, 'GET', '/v1/tenants');
    const tenant = { name: 'openapi-team' };
    await expectStatus(200, 'GET', '/v1/tenants/{name}', { params: tenant });
    await expectStatus(404, 'GET', '/v1/tenants/{name}', { params: { name: 'nobody' } });
    await expectStatus(200, 'PATCH', '/v1/tenants/{name}', {
      params: tenant,
      body: { quotas: { maxQueued: 1, maxRunning: 3 } },
    });
    const rule = await expectStatus(201, 'POST', '/v1/tenants/{name}/image-rules', {
      params: tenant,
      body: { pattern: 'registry.example.com/team/*' },
    });
    await expectStatus(200, 'GET', '/v1/tenants/{name}/image-rules', { params: tenant });
    await expectStatus(200, 'DELETE', '/v1/tenants/{name}/image-rules/{id}', {
      params: { ...tenant, id: rule.id },
    });

    const member = await expectStatus(201, 'POST', '/v1/api-keys', {
      body: { name: 'openapi member', tenant: 'openapi-team', role: 'member' },
    });
    const viewer = await expectStatus(201, 'POST', '/v1/api-keys', {
      body: { name: 'openapi viewer', tenant: 'openapi-team', role: 'viewer' },
    });
    await expectStatus(200, 'GET', '/v1/api-keys', { query: { tenant: 'openapi-team' } });
    const asMember = { authorization: `Bearer ${member.key}` };
    const asViewer = { authorization: `Bearer ${viewer.key}` };
    const queued = { topic: 'openapi-later', command: 'true', runAt: LATER };
    await expectStatus(201, 'POST', '/v1/jobs', { body: queued, headers: asMember });
    await expectStatus(429, 'POST', '/v1/jobs', { body: queued, headers: asMember });
    await expectStatus(403, 'POST', '/v1/jobs', { body: queued, headers: asViewer });
    await expectStatus(403, 'POST', '/v1/tenants', {
      body: { name: 'not-allowed' },
      headers: asMember,
    });
    await expectStatus(200, 'DELETE', '/v1/api-keys/{id}', { params: { id: viewer.id } });
    await expectStatus(404, 'DELETE', '/v1/api-keys/{id}', { params: { id: '999999999' } });

    await expectStatus(200, 'GET', '/v1/audit', { query: { limit: '10' } });
    await expectStatus(200, 'GET', '/v1/usage');
    await expectStatus(400, 'GET', '/v1/usage', { query: { groupBy: 'bogus' } });
  });

  it('schedules: create, list, read, change, runs, delete, and their errors', async () => {
    const schedule = await expectStatus(201, 'POST', '/v1/schedules', {
      body: {
        name: 'openapi-schedule',
        cron: '0 6 * * 1-5',
        timeZone: 'Europe/Berlin',
        job: { topic: 'openapi-later', command: ['true'] },
      },
    });
    await expectStatus(201, 'POST', '/v1/schedules', {
      body: {
        name: 'openapi-workflow-schedule',
        cron: '0 0 1 * *',
        workflow: {
          name: 'monthly',
          nodes: [{ name: 'a', topic: 'openapi-later', command: 'true' }],
        },
        paused: true,
      },
    });
    const params = { id: schedule.id };
    await expectStatus(409, 'POST', '/v1/schedules', {
      body: { name: 'openapi-schedule', cron: '* * * * *', job: { topic: 't', command: 'true' } },
    });
    await expectStatus(400, 'POST', '/v1/schedules', {
      body: { name: 'bad', cron: '61 * * * *', job: { topic: 't', command: 'true' } },
    });
    await expectStatus(200, 'GET', '/v1/schedules', { query: { limit: '5' } });
    await expectStatus(200, 'GET', '/v1/schedules/{id}', { params });
    await expectStatus(200, 'PATCH', '/v1/schedules/{id}', {
      params,
      body: { paused: true, overlap: 'skip' },
    });
    await expectStatus(400, 'PATCH', '/v1/schedules/{id}', {
      params,
      body: { timeZone: 'Nowhere/Special' },
    });
    await expectStatus(200, 'GET', '/v1/schedules/{id}/runs', { params, query: { limit: '5' } });
    await expectStatus(204, 'DELETE', '/v1/schedules/{id}', { params });
    await expectStatus(404, 'GET', '/v1/schedules/{id}', { params });
    await expectStatus(404, 'GET', '/v1/schedules/{id}/runs', { params });
    await expectStatus(404, 'PATCH', '/v1/schedules/{id}', { params, body: { paused: false } });
    await expectStatus(404, 'DELETE', '/v1/schedules/{id}', { params });
  });

  it('retention: read, replace, sweep, and their errors', async () => {
    await expectStatus(200, 'GET', '/v1/retention');
    await expectStatus(200, 'PUT', '/v1/retention', {
      body: { default: { keepDays: 30 }, topics: [{ topic: 'openapi', keepDays: 7 }] },
    });
    await expectStatus(400, 'PUT', '/v1/retention', { body: { default: { keepDays: -1 } } });
    await expectStatus(202, 'POST', '/v1/retention/sweep');
  });

  it('webhooks: create, list, read, deliveries, delete, and their errors', async () => {
    const receiver = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const webhook = await expectStatus(201, 'POST', '/v1/webhooks', {
        body: { url, events: ['job.failed', 'workflow.finished'] },
      });
      const params = { id: webhook.id };
      await expectStatus(200, 'GET', '/v1/webhooks');
      await expectStatus(200, 'GET', '/v1/webhooks/{id}', { params });
      await expectStatus(200, 'GET', '/v1/webhooks/{id}/deliveries', {
        params,
        query: { limit: '5' },
      });
      await expectStatus(400, 'POST', '/v1/webhooks', {
        body: { url: 'ftp://127.0.0.1/hook', events: ['job.failed'] },
      });
      await expectStatus(400, 'POST', '/v1/webhooks', { body: { url, events: ['job.exploded'] } });
      await expectStatus(204, 'DELETE', '/v1/webhooks/{id}', { params });
      await expectStatus(404, 'GET', '/v1/webhooks/{id}', { params });
      await expectStatus(404, 'GET', '/v1/webhooks/{id}/deliveries', { params });
      await expectStatus(404, 'DELETE', '/v1/webhooks/{id}', { params });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('no route of the document went unchecked, and each gave a success', async () => {
    const unchecked: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(spec.paths)) {
      for (const method of Object.keys(item)) {
        const route = `${method.toUpperCase()} ${path}`;
        const statuses = [...(seen.get(route) ?? [])];
        if (!statuses.some((s) => s >= 200 && s < 300)) unchecked.push(route);
      }
    }
    expect(unchecked).toEqual([]);
  });
});
