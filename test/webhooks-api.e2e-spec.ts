import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { createServer, type Server } from 'node:http';
import { startApi, http, type HttpResult, type TestApi } from './support/api';
import { bearer, keyFor, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The webhooks routes: what they refuse and why, who may call them, paging of the
 * delivery log, and every answer checked against the served OpenAPI document. Nothing is
 * delivered here (housekeeping is off); test/webhooks.e2e-spec.ts sends for real.
 */
let db: TestDatabase;
let api: TestApi;
let target: Server;
let targetUrl: string;
let spec: any;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  target = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/hook`;
  spec = (await http('GET', `${api.url}/docs-json`)).body;
  ajv.addSchema({ $id: 'openapi.json', components: spec.components });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => target?.close(resolve));
  await api?.close();
  await db?.drop();
});

/**
 * `method template` with the template's {id} filled in; the answer must be one the served
 * document lists for the route, with a body matching its schema.
 */
async function call(
  method: string,
  template: string,
  {
    id,
    body,
    headers = {},
    query = '',
  }: { id?: string; body?: unknown; headers?: Record<string, string>; query?: string } = {},
): Promise<HttpResult> {
  const path = template.replace('{id}', encodeURIComponent(id ?? ''));
  const result = await http(method, `${api.url}${path}${query}`, body, headers);
  const route = `${method} ${template}`;
  const documented =
    spec.paths[template]?.[method.toLowerCase()]?.responses?.[String(result.status)];
  expect({ route, status: result.status, documented: documented !== undefined }).toEqual({
    route,
    status: result.status,
    documented: true,
  });
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) {
    expect({ route, status: result.status, body: result.body }).toEqual({
      route,
      status: result.status,
      body: '',
    });
  } else {
    const validate: ValidateFunction = ajv.compile(
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')),
    );
    validate(result.body);
    expect({ route, status: result.status, errors: validate.errors ?? [] }).toEqual({
      route,
      status: result.status,
      errors: [],
    });
  }
  return result;
}

/** A 400 whose message and details name `field`. */
async function expectRefused(body: unknown, field: string, message: RegExp): Promise<void> {
  const { status, body: answer } = await call('POST', '/v1/webhooks', { body });
  expect({ status, message: answer.message }).toEqual({
    status: 400,
    message: expect.stringMatching(message),
  });
  expect(answer.message).toContain(field);
  const named = answer.details?.field ?? answer.details?.fields;
  expect([named].flat()).toContain(field);
}

it('creates a webhook: the secret is in the answer once, and never again', async () => {
  const created = await call('POST', '/v1/webhooks', {
    body: {
      url: targetUrl,
      events: ['job.failed', 'workflow.finished', 'job.failed'],
      topic: 'reports',
    },
  });
  expect(created.status).toBe(201);
  expect(created.body).toEqual({
    id: expect.stringMatching(/^wh_[0-9a-f]{32}$/),
    url: targetUrl,
    events: ['job.failed', 'workflow.finished'],
    topic: 'reports',
    maxAttempts: 8,
    createdAt: expect.any(String),
    secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
  });
  const { secret, ...shown } = created.body;
  const read = await call('GET', '/v1/webhooks/{id}', { id: created.body.id });
  expect(read.body).toEqual(shown);
  const listed = await call('GET', '/v1/webhooks');
  expect(listed.body.items).toContainEqual(shown);
  expect(JSON.stringify(listed.body)).not.toContain(secret);

  // Stored sealed: neither the secret nor anything that reveals it is in the row.
  const { rows } = await db.pool.query(`SELECT * FROM danube.webhooks WHERE id = $1`, [
    created.body.id,
  ]);
  expect(JSON.stringify(rows)).not.toContain(secret.slice('whsec_'.length));
  const audit = await db.pool.query(`SELECT action FROM danube.audit_log WHERE target = $1`, [
    `webhook/${created.body.id}`,
  ]);
  expect(audit.rows.map((r) => r.action)).toEqual(['webhook.create']);
});

it('refuses a URL that is not http or https, or not a URL, naming url', async () => {
  await expectRefused(
    { url: 'ftp://127.0.0.1/hook', events: ['job.failed'] },
    'url',
    /http or https/,
  );
  await expectRefused(
    { url: 'file:///etc/passwd', events: ['job.failed'] },
    'url',
    /http or https/,
  );
  await expectRefused({ url: 'not a url', events: ['job.failed'] }, 'url', /not a URL/);
  await expectRefused(
    { url: targetUrl.replace('http://', 'http://user:pass@'), events: ['job.failed'] },
    'url',
    /user name or password/,
  );
  await expectRefused({ url: 42, events: ['job.failed'] }, 'url', /url/);
});

it('refuses a URL whose port refuses connections, as unreachable, naming url', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));
  await expectRefused(
    { url: `http://127.0.0.1:${port}/hook`, events: ['job.failed'] },
    'url',
    /unreachable.*refused/,
  );
});

it('refuses an unknown event kind naming its place in the list, and other bad fields', async () => {
  await expectRefused(
    { url: targetUrl, events: ['job.succeeded', 'job.exploded'] },
    'events[1]',
    /job\.exploded.*job\.succeeded/,
  );
  await expectRefused({ url: targetUrl, events: [] }, 'events', /at least one/);
  await expectRefused({ url: targetUrl }, 'events', /events/);
  await expectRefused(
    { url: targetUrl, events: ['job.failed'], maxAttempts: 0 },
    'maxAttempts',
    /1 to 20/,
  );
  await expectRefused(
    { url: targetUrl, events: ['job.failed'], maxAttempts: 21 },
    'maxAttempts',
    /1 to 20/,
  );
  await expectRefused(
    { url: targetUrl, events: ['job.failed'], maxAttempts: 1.5 },
    'maxAttempts',
    /integer/,
  );
  await expectRefused({ url: targetUrl, events: ['job.failed'], topic: '' }, 'topic', /topic/);
  await expectRefused(
    { url: targetUrl, events: ['job.failed'], secret: 'mine' },
    'secret',
    /should not exist/,
  );
});

it("keeps tenants apart: another tenant's webhook is a 404 to read, list, delete or page", async () => {
  const otherKey = await tenantWithKey(api, 'hooks-other', { role: 'member' });
  const theirs = await call('POST', '/v1/webhooks', {
    body: { url: targetUrl, events: ['job.succeeded'] },
    headers: bearer(otherKey),
  });
  expect(theirs.status).toBe(201);
  const id = theirs.body.id;
  expect((await call('GET', '/v1/webhooks/{id}', { id })).status).toBe(404);
  expect((await call('GET', '/v1/webhooks/{id}/deliveries', { id })).status).toBe(404);
  expect((await call('DELETE', '/v1/webhooks/{id}', { id })).status).toBe(404);
  const mine = await call('GET', '/v1/webhooks');
  expect(mine.body.items.map((w: { id: string }) => w.id)).not.toContain(id);
  // Still there for its owner.
  expect((await call('GET', '/v1/webhooks/{id}', { id, headers: bearer(otherKey) })).status).toBe(
    200,
  );
  expect((await call('GET', '/v1/webhooks/{id}', { id: 'wh_nothing' })).status).toBe(404);
});

it('lets a viewer read webhooks but not create or delete them', async () => {
  const viewer = await keyFor(api, 'default', 'viewer');
  const created = await call('POST', '/v1/webhooks', {
    body: { url: targetUrl, events: ['job.failed'] },
  });
  expect((await call('GET', '/v1/webhooks', { headers: bearer(viewer) })).status).toBe(200);
  expect(
    (
      await call('POST', '/v1/webhooks', {
        body: { url: targetUrl, events: ['job.failed'] },
        headers: bearer(viewer),
      })
    ).status,
  ).toBe(403);
  expect(
    (await call('DELETE', '/v1/webhooks/{id}', { id: created.body.id, headers: bearer(viewer) }))
      .status,
  ).toBe(403);
});

it('pages the delivery log newest first, and deletes a webhook with its log', async () => {
  const created = await call('POST', '/v1/webhooks', {
    body: { url: targetUrl, events: ['job.cancelled'] },
  });
  const id = created.body.id;
  // Deliveries as the scanner stores them (nothing sends them here).
  await db.pool.query(
    `INSERT INTO danube.webhook_deliveries (webhook_id, event_seq, type, payload, max_attempts)
     SELECT $1, s, 'job.cancelled', json_build_object('id', s::text, 'type', 'job.cancelled'), 8
     FROM generate_series(1, 5) AS s`,
    [id],
  );
  const first = await call('GET', '/v1/webhooks/{id}/deliveries', { id, query: '?limit=2' });
  expect(first.body.items.map((d: { eventId: string }) => d.eventId)).toEqual(['5', '4']);
  expect(first.body.items[0]).toMatchObject({
    webhookId: id,
    type: 'job.cancelled',
    status: 'pending',
    attempts: 0,
    maxAttempts: 8,
    lastStatusCode: null,
    lastError: null,
    lastAttemptAt: null,
    deliveredAt: null,
    payload: { id: '5', type: 'job.cancelled' },
  });
  const second = await call('GET', '/v1/webhooks/{id}/deliveries', {
    id,
    query: `?limit=2&cursor=${first.body.nextCursor}`,
  });
  expect(second.body.items.map((d: { eventId: string }) => d.eventId)).toEqual(['3', '2']);
  const last = await call('GET', '/v1/webhooks/{id}/deliveries', {
    id,
    query: `?limit=2&cursor=${second.body.nextCursor}`,
  });
  expect(last.body).toEqual({
    items: [expect.objectContaining({ eventId: '1' })],
    nextCursor: null,
  });
  expect(
    (await call('GET', '/v1/webhooks/{id}/deliveries', { id, query: '?limit=0' })).status,
  ).toBe(400);
  expect(
    (await call('GET', '/v1/webhooks/{id}/deliveries', { id, query: '?cursor=x' })).status,
  ).toBe(400);

  expect((await call('DELETE', '/v1/webhooks/{id}', { id })).status).toBe(204);
  expect((await call('GET', '/v1/webhooks/{id}', { id })).status).toBe(404);
  expect((await call('GET', '/v1/webhooks/{id}/deliveries', { id })).status).toBe(404);
  expect((await call('DELETE', '/v1/webhooks/{id}', { id })).status).toBe(404);
  const left = await db.pool.query(
    `SELECT count(*)::int AS n FROM danube.webhook_deliveries WHERE webhook_id = $1`,
    [id],
  );
  expect(left.rows[0].n).toBe(0);
});

it('answers 422 on a server without DANUBE_SECRET_KEY, where secrets cannot be stored', async () => {
  const keyless = await startApi(db.url, { DANUBE_SECRET_KEY: '' });
  try {
    const refused = await http('POST', `${keyless.url}/v1/webhooks`, {
      url: targetUrl,
      events: ['job.failed'],
    });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/DANUBE_SECRET_KEY/);
  } finally {
    await keyless.close();
  }
});
