import { status as grpcStatus } from '@grpc/grpc-js';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobTokens, Keyring } from '../libs/secrets/src';
import { startApi, http, type TestApi } from './support/api';
import { jobServiceClient } from './support/job-service-client';
import { readSse } from './support/sse';
import { bearer, keyFor, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Every route the API serves, taken from its own route table (the OpenAPI document Nest
 * builds from the controllers), asked without a key, with a revoked and an expired key,
 * with a viewer's key on a write, and with another tenant's key on this tenant's objects.
 * A route added without the guard's protection fails here without anyone listing it.
 */
let db: TestDatabase;
let api: TestApi;
const keys: Record<'viewer' | 'revoked' | 'expired' | 'other' | 'otherJobToken', string> = {
  viewer: '',
  revoked: '',
  expired: '',
  other: '',
  otherJobToken: '',
};
/** This tenant's ('default') objects, by the path parameter that names them. */
const objects: Record<string, string> = {};
let routes: { method: string; path: string }[] = [];

/** Routes only an admin may call: a member gets 403 on exactly these. */
const ADMIN_ONLY = [
  'POST /v1/api-keys',
  'GET /v1/api-keys',
  'DELETE /v1/api-keys/{id}',
  'POST /v1/tenants',
  'PATCH /v1/tenants/{name}',
  'POST /v1/tenants/{name}/image-rules',
  'DELETE /v1/tenants/{name}/image-rules/{id}',
  'GET /v1/audit',
  'PUT /v1/retention',
  'POST /v1/retention/sweep',
];

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  const document = (await http('GET', `${api.url}/docs-json`)).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  routes = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
  );

  // This tenant's things: a job (with an artifact), a workflow, a secret, an image rule.
  const job = await http('POST', `${api.url}/v1/jobs`, { topic: 'nobody', command: 'true' });
  objects.job = job.body.id;
  const workflow = await http('POST', `${api.url}/v1/workflows`, {
    name: 'mine',
    nodes: [{ name: 'a', topic: 'nobody', command: 'true' }],
  });
  objects.workflow = workflow.body.id;
  const schedule = await http('POST', `${api.url}/v1/schedules`, {
    name: 'mine',
    cron: '0 0 1 1 *',
    job: { topic: 'nobody', command: 'true' },
  });
  objects.schedule = schedule.body.id;
  // An artifact as an upload leaves it: a row, and its file in the store.
  const storageKey = randomUUID();
  mkdirSync(join(api.artifactDir, storageKey.slice(0, 2)), { recursive: true });
  writeFileSync(join(api.artifactDir, storageKey.slice(0, 2), storageKey), 'x');
  const artifact = await db.pool.query(
    `INSERT INTO danube.artifacts (job_id, attempt, path, content_type, size, sha256, storage_key)
     VALUES ($1, 1, 'out.txt', 'text/plain', 1, $2, $3) RETURNING id`,
    [objects.job, createHash('sha256').update('x').digest('hex'), storageKey],
  );
  objects.artifact = artifact.rows[0].id;
  expect((await http('PUT', `${api.url}/v1/secrets/mine`, { value: 'v' })).status).toBe(201);
  const rule = await http('POST', `${api.url}/v1/tenants/default/image-rules`, { pattern: 'x/*' });
  objects.rule = rule.body.id;

  keys.viewer = await keyFor(api, 'default', 'viewer');
  keys.revoked = await keyFor(api, 'default', 'admin');
  const listed = await http('GET', `${api.url}/v1/api-keys?tenant=default`);
  const revokedId = listed.body.items.find(
    (k: { role: string; revokedAt: unknown; name: string }) => k.name === 'default-admin',
  ).id;
  objects.apiKey = revokedId;
  expect((await http('DELETE', `${api.url}/v1/api-keys/${revokedId}`)).status).toBe(200);
  keys.expired = await keyFor(api, 'default', 'admin', {
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });
  // Expiry is checked by the database clock: move it into the past rather than wait.
  await db.pool.query(
    `UPDATE danube.api_keys SET expires_at = now() - interval '1 second' WHERE name = 'default-admin' AND revoked_at IS NULL`,
  );
  keys.other = await tenantWithKey(api, 'other-team', { role: 'member' });

  // A running job of the other tenant, and its token.
  const theirs = await http(
    'POST',
    `${api.url}/v1/jobs`,
    { topic: 'nobody', command: 'true', secrets: ['mine'] },
    bearer(keys.other),
  );
  await db.pool.query(
    `UPDATE danube.jobs SET status = 'running', attempts = 1, lease_owner = 'test',
       lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 hour'
     WHERE id = $1`,
    [theirs.body.id],
  );
  objects.theirJob = theirs.body.id;
  keys.otherJobToken = new JobTokens(Keyring.parse(api.executorEnv.DANUBE_SECRET_KEY!)).issue(
    theirs.body.id,
    1,
  );
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** The route's path with this tenant's objects in its parameters. */
function concrete(path: string): string {
  return path
    .replace(/^\/v1\/jobs\/\{id\}/, `/v1/jobs/${objects.job}`)
    .replace(/^\/v1\/workflows\/\{id\}/, `/v1/workflows/${objects.workflow}`)
    .replace(/^\/v1\/schedules\/\{id\}/, `/v1/schedules/${objects.schedule}`)
    .replace(/^\/v1\/artifacts\/\{id\}/, `/v1/artifacts/${objects.artifact}`)
    .replace(/^\/v1\/api-keys\/\{id\}/, `/v1/api-keys/${objects.apiKey}`)
    .replace(/^\/v1\/secrets\/\{name\}/, '/v1/secrets/mine')
    .replace(
      /^\/v1\/tenants\/\{name\}\/image-rules\/\{id\}/,
      `/v1/tenants/default/image-rules/${objects.rule}`,
    )
    .replace(/^\/v1\/tenants\/\{name\}/, '/v1/tenants/default');
}

async function call(method: string, path: string, headers: Record<string, string>) {
  const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
  return http(method, `${api.url}${concrete(path)}`, body, {
    ...(body && { 'content-type': 'application/json' }),
    ...headers,
  });
}

const PUBLIC = ['GET /healthz', 'GET /readyz'];

it('the route table is the whole API: jobs, workflows, secrets, artifacts, events, fleet, keys, tenants, usage, audit', () => {
  const names = routes.map((r) => `${r.method} ${r.path}`);
  expect(names).toEqual(
    expect.arrayContaining([
      ...ADMIN_ONLY,
      ...PUBLIC,
      'GET /v1/jobs/{id}/why',
      'GET /v1/usage',
      'GET /v1/events',
    ]),
  );
  expect(names.length).toBeGreaterThan(30);
});

it('every route but the health checks answers 401 without a key, with a revoked key and with an expired one', async () => {
  const seen: string[] = [];
  for (const { method, path } of routes) {
    const name = `${method} ${path}`;
    if (PUBLIC.includes(name)) continue;
    for (const headers of [{ authorization: '' }, bearer(keys.revoked), bearer(keys.expired)]) {
      const { status, body } = await call(method, path, headers);
      seen.push(`${name} ${status}`);
      expect({ route: name, status }).toEqual({ route: name, status: 401 });
      expect(body.message).toMatch(/API key|Authorization/);
    }
  }
  expect(seen.length).toBe((routes.length - PUBLIC.length) * 3);
});

it('health, readiness and metrics answer without a key', async () => {
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const { status } = await http('GET', `${api.url}${path}`, undefined, { authorization: '' });
    expect({ path, status }).toEqual({ path, status: 200 });
  }
});

it("a viewer's key reads but every write is 403", async () => {
  for (const { method, path } of routes) {
    const name = `${method} ${path}`;
    if (PUBLIC.includes(name)) continue;
    const { status } = await call(method, path, bearer(keys.viewer));
    expect({ route: name, serverError: status >= 500 }).toEqual({
      route: name,
      serverError: false,
    });
    if (method === 'GET') {
      expect({ route: name, forbidden: status === 403 }).toEqual({
        route: name,
        forbidden: ADMIN_ONLY.includes(name),
      });
    } else {
      expect({ route: name, status }).toEqual({ route: name, status: 403 });
    }
  }
});

it("another tenant's key finds none of this tenant's objects: 404, never 403", async () => {
  const checked: string[] = [];
  for (const { method, path } of routes) {
    const name = `${method} ${path}`;
    if (!path.includes('{') || PUBLIC.includes(name)) continue;
    const { status } = await call(method, path, bearer(keys.other));
    if (ADMIN_ONLY.includes(name)) {
      expect({ route: name, status }).toEqual({ route: name, status: 403 });
    } else if (name === 'PUT /v1/secrets/{name}') {
      // Writes the other tenant's own secret of that name; this tenant's is untouched.
      expect({ route: name, status }).toEqual({ route: name, status: 400 });
    } else {
      expect({ route: name, status }).toEqual({ route: name, status: 404 });
      checked.push(name);
    }
  }
  expect(checked).toEqual(
    expect.arrayContaining([
      'GET /v1/jobs/{id}',
      'GET /v1/jobs/{id}/logs',
      'GET /v1/jobs/{id}/executions',
      'GET /v1/jobs/{id}/artifacts',
      'POST /v1/jobs/{id}/cancel',
      'GET /v1/workflows/{id}',
      'GET /v1/artifacts/{id}',
      'DELETE /v1/secrets/{name}',
      'GET /v1/tenants/{name}',
    ]),
  );
  // Lists hold only the caller's own.
  const jobs = await http('GET', `${api.url}/v1/jobs`, undefined, bearer(keys.other));
  expect(jobs.body.items.map((j: { id: string }) => j.id)).toEqual([objects.theirJob]);
  const secrets = await http('GET', `${api.url}/v1/secrets`, undefined, bearer(keys.other));
  expect(secrets.body.items).toEqual([]);
  const events = await http('GET', `${api.url}/v1/events`, undefined, bearer(keys.other));
  expect(new Set(events.body.items.map((e: { jobId: string }) => e.jobId))).toEqual(
    new Set([objects.theirJob]),
  );
});

it("the SSE streams need a key, and follow only the caller's events", async () => {
  for (const path of [`/v1/events?follow=true`, `/v1/jobs/${objects.job}/logs?follow=true`]) {
    const { status } = await http('GET', `${api.url}${path}`, undefined, { authorization: '' });
    expect({ path, status }).toEqual({ path, status: 401 });
  }
  const theirs = await readSse(
    `${api.url}/v1/events?follow=true&after=0-0`,
    (events) => events.length >= 1,
    {
      headers: bearer(keys.other),
    },
  );
  expect(theirs.every((e) => e.data.jobId === objects.theirJob)).toBe(true);
});

it('every JobService method wants a job token: none or an API key is UNAUTHENTICATED; a job reads only its own tenant', async () => {
  const client = jobServiceClient(api.grpcAddress);
  const calls = {
    runStep: (token?: string) =>
      client.unary('runStep', { jobId: objects.theirJob, command: ['true'] }, token),
    getSecret: (token?: string) =>
      client.unary('getSecret', { jobId: objects.theirJob, name: 'mine' }, token),
    reportStatus: (token?: string) =>
      client.unary('reportStatus', { jobId: objects.theirJob, message: 'hi' }, token),
    uploadArtifact: (token?: string) =>
      client.upload([{ header: { jobId: objects.theirJob, path: 'a.txt', size: 1 } }], token),
  };
  for (const [method, send] of Object.entries(calls)) {
    for (const token of [undefined, api.adminKey]) {
      const result = await send(token);
      expect({ method, code: result.code }).toEqual({ method, code: grpcStatus.UNAUTHENTICATED });
    }
    // Another job's token, on this tenant's job.
    const mine = await (method === 'uploadArtifact'
      ? client.upload(
          [{ header: { jobId: objects.job, path: 'a.txt', size: 1 } }],
          keys.otherJobToken,
        )
      : client.unary(
          method as 'runStep',
          { jobId: objects.job, name: 'mine', command: ['true'] },
          keys.otherJobToken,
        ));
    expect({ method, code: mine.code }).toEqual({ method, code: grpcStatus.PERMISSION_DENIED });
  }
  // The other tenant's job lists secret "mine", but only this tenant has one of that name.
  const secret = await calls.getSecret(keys.otherJobToken);
  expect(secret).toMatchObject({ ok: false, code: grpcStatus.NOT_FOUND });
});
