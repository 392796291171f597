import { startApi, http, type TestApi } from './support/api';
import { bearer, keyFor, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * What a tenant may submit: its queued-jobs cap (also under concurrent submits), its job
 * timeout cap, its image rules; and the audit log of who changed what.
 */
let db: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const jobs = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, () => ({ topic: 'nobody-serves-this', command: 'true', ...extra }));

it('a queued-jobs cap holds when five submits race for it: 429 names the limit', async () => {
  const key = await tenantWithKey(api, 'queue-cap', { quotas: { maxQueued: 10 } });
  const answers = await Promise.all(
    Array.from({ length: 5 }, () =>
      http('POST', `${api.url}/v1/jobs/batch`, { jobs: jobs(3) }, bearer(key)),
    ),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 429, 429]);
  const refused = answers.find((a) => a.status === 429)!;
  expect(refused.body.message).toMatch(
    /^tenant queue-cap may have at most 10 queued jobs; it has 9 and this request adds 3/,
  );
  const { rows } = await db.pool.query(
    `SELECT count(*)::integer AS n FROM danube.jobs WHERE tenant = 'queue-cap'`,
  );
  expect(rows[0].n).toBe(9);
  // One more fits; then the cap is reached for workflows too.
  expect((await http('POST', `${api.url}/v1/jobs`, jobs(1)[0], bearer(key))).status).toBe(201);
  const workflow = await http(
    'POST',
    `${api.url}/v1/workflows`,
    { name: 'over', nodes: [{ name: 'a', ...jobs(1)[0] }] },
    bearer(key),
  );
  expect(workflow.status).toBe(429);
});

it('a job timeout above the tenant limit is a 422 naming the field', async () => {
  const key = await tenantWithKey(api, 'short-jobs', { quotas: { maxTimeoutSeconds: 30 } });
  const refused = await http(
    'POST',
    `${api.url}/v1/jobs/batch`,
    { jobs: [...jobs(1, { timeoutSeconds: 10 }), ...jobs(1, { timeoutSeconds: 31 })] },
    bearer(key),
  );
  expect(refused.status).toBe(422);
  expect(refused.body).toMatchObject({
    message: "jobs[1].timeoutSeconds 31 is above tenant short-jobs's limit of 30 seconds",
    details: { field: 'jobs[1].timeoutSeconds' },
  });
  expect(
    (await http('POST', `${api.url}/v1/jobs`, jobs(1, { timeoutSeconds: 30 })[0], bearer(key)))
      .status,
  ).toBe(201);
});

it('image rules: an image no rule allows is a 422 naming image and rules; an allowed one carries its pull secret', async () => {
  const key = await tenantWithKey(api, 'images');
  // No rules: any image.
  expect(
    (await http('POST', `${api.url}/v1/jobs`, jobs(1, { image: 'busybox:1' })[0], bearer(key)))
      .status,
  ).toBe(201);
  const anyTopic = await http('POST', `${api.url}/v1/tenants/images/image-rules`, {
    pattern: 'registry.example/team/*',
  });
  const train = await http('POST', `${api.url}/v1/tenants/images/image-rules`, {
    pattern: 'ghcr.io/acme/*',
    topic: 'train',
    pullSecret: 'acme-ghcr',
  });
  expect([anyTopic.status, train.status]).toEqual([201, 201]);

  const refused = await http(
    'POST',
    `${api.url}/v1/jobs`,
    { topic: 'train', command: 'true', image: 'docker.io/evil/miner:latest' },
    bearer(key),
  );
  expect(refused.status).toBe(422);
  expect(refused.body.message).toBe(
    `image "docker.io/evil/miner:latest" is not allowed for tenant images on topic train: its image rules allow registry.example/team/* (rule ${anyTopic.body.id}), ghcr.io/acme/* (rule ${train.body.id})`,
  );
  expect(refused.body.details.field).toBe('image');
  // The topic's rule does not reach other topics.
  const elsewhere = await http(
    'POST',
    `${api.url}/v1/jobs`,
    { topic: 'other', command: 'true', image: 'ghcr.io/acme/train:1' },
    bearer(key),
  );
  expect(elsewhere.status).toBe(422);

  const allowed = await http(
    'POST',
    `${api.url}/v1/jobs`,
    { topic: 'train', command: 'true', image: 'ghcr.io/acme/train:1' },
    bearer(key),
  );
  expect(allowed.status).toBe(201);
  const { rows } = await db.pool.query(`SELECT spec FROM danube.jobs WHERE id = $1`, [
    allowed.body.id,
  ]);
  expect(rows[0].spec.imagePullSecret).toBe('acme-ghcr');
  // Bad patterns and another tenant's rules.
  const bad = await http('POST', `${api.url}/v1/tenants/images/image-rules`, { pattern: 'a b' });
  expect(bad.status).toBe(400);
  const member = await http(
    'GET',
    `${api.url}/v1/tenants/images/image-rules`,
    undefined,
    bearer(key),
  );
  expect(member.body.items).toHaveLength(2);
  const stranger = await tenantWithKey(api, 'stranger');
  const hidden = await http(
    'GET',
    `${api.url}/v1/tenants/images/image-rules`,
    undefined,
    bearer(stranger),
  );
  expect(hidden.status).toBe(404);
});

it('the audit log says which key did what', async () => {
  const key = await tenantWithKey(api, 'audited');
  const listed = await http('GET', `${api.url}/v1/api-keys?tenant=audited`);
  const keyId = listed.body.items[0].id;
  const job = await http('POST', `${api.url}/v1/jobs`, jobs(1)[0], bearer(key));
  await http('POST', `${api.url}/v1/jobs/${job.body.id}/cancel`, undefined, bearer(key));
  await http('PUT', `${api.url}/v1/secrets/token`, { value: 's3cret' }, bearer(key));
  await http('DELETE', `${api.url}/v1/secrets/token`, undefined, bearer(key));
  await http('PATCH', `${api.url}/v1/tenants/audited`, { quotas: { maxRunning: 3 } });
  await http('DELETE', `${api.url}/v1/api-keys/${keyId}`);

  const log = await http('GET', `${api.url}/v1/audit?limit=100`);
  expect(log.status).toBe(200);
  const entries = log.body.items.map((e: any) => [
    e.keyId === keyId ? 'member' : e.keyId === null ? null : 'admin',
    e.tenant,
    e.action,
    e.target,
  ]);
  expect(entries.slice(0, 6).reverse()).toEqual([
    ['member', 'audited', 'job.submit', `job/${job.body.id}`],
    ['member', 'audited', 'job.cancel', `job/${job.body.id}`],
    ['member', 'audited', 'secret.create', 'secret/token'],
    ['member', 'audited', 'secret.delete', 'secret/token'],
    ['admin', 'default', 'tenant.quotas', 'tenant/audited'],
    ['admin', 'default', 'api_key.revoke', `api_key/${keyId}`],
  ]);
  expect(JSON.stringify(log.body)).not.toContain('s3cret');
  // Members do not read it.
  const member = await keyFor(api, 'audited', 'member');
  expect((await http('GET', `${api.url}/v1/audit`, undefined, bearer(member))).status).toBe(403);
});
