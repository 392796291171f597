import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { startApi, http, jobEnded, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { bearer, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * Webhooks end to end: the API with its housekeeping on, real jobs ending (cancelled while
 * queued, or run by an executor process), and HTTP receivers on loopback that answer as
 * each test needs. Signatures are checked with the snippet that docs/webhooks.md gives.
 */
const LATER = '2099-01-01T00:00:00Z';

let db: TestDatabase;
let api: TestApi;
let executor: ExecutorProcess;
const receivers: Receiver[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'on' });
  executor = await startExecutor(db.url, 'webhooks-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'alpha',
  });
}, 90_000);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await executor?.stop();
  await api?.close();
  await db?.drop();
});

interface Request {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (null: it never did). */
  answered: number | null;
}

interface Receiver {
  url: string;
  requests: Request[];
  close(): Promise<void>;
}

/**
 * An HTTP server on loopback that records every request and answers the n-th (from 1)
 * with `answer(n)`: a status, or 'hang' to keep the connection open without a word.
 */
async function receiver(answer: (n: number) => number | 'hang' = () => 200): Promise<Receiver> {
  const requests: Request[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Request = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered: null,
      };
      requests.push(request);
      const reply = answer(requests.length);
      if (reply === 'hang') return;
      request.answered = reply;
      res.writeHead(reply, { 'content-type': 'text/plain' }).end(`answer ${reply}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const created: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  receivers.push(created);
  return created;
}

/** The Node snippet of docs/webhooks.md, evaluated as a reader would paste it. */
function docsVerifier(): (secret: string, header: unknown, body: string, now?: number) => boolean {
  const docs = readFileSync(join(__dirname, '..', 'docs', 'webhooks.md'), 'utf8');
  const blocks = [...docs.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  return new Function('require', `${blocks[0]}\nreturn verifyDanubeSignature;`)(require);
}

async function createWebhook(
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ id: string; secret: string }> {
  const created = await http('POST', `${api.url}/v1/webhooks`, body, headers);
  expect({ status: created.status, body: created.body }).toEqual({
    status: 201,
    body: expect.objectContaining({ id: expect.any(String), secret: expect.any(String) }),
  });
  return created.body;
}

/** A job that waits (runAt far off), cancelled: its job.cancelled event. */
async function cancelledJob(topic: string, headers: Record<string, string> = {}): Promise<string> {
  const job = await http(
    'POST',
    `${api.url}/v1/jobs`,
    { topic, command: 'true', runAt: LATER },
    headers,
  );
  expect(job.status).toBe(201);
  const cancelled = await http('POST', `${api.url}/v1/jobs/${job.body.id}/cancel`, {}, headers);
  expect(cancelled.body.status).toBe('cancelled');
  return job.body.id;
}

async function deliveries(webhookId: string, headers: Record<string, string> = {}) {
  const page = await http(
    'GET',
    `${api.url}/v1/webhooks/${webhookId}/deliveries`,
    undefined,
    headers,
  );
  expect(page.status).toBe(200);
  return page.body.items as any[];
}

it('retries a receiver that fails twice: the third try is delivered, signed as the docs say, and logged as 3 attempts', async () => {
  const verify = docsVerifier();
  const flaky = await receiver((n) => (n <= 2 ? 503 : 200));
  const webhook = await createWebhook({
    url: flaky.url,
    events: ['job.cancelled'],
    topic: 'retry',
  });
  expect(webhook.secret).toMatch(/^whsec_/);
  const jobId = await cancelledJob('retry');

  // Between the first failure and the success the log says why it is still pending.
  const failing = await waitFor(
    'the first failed try in the delivery log',
    async () => {
      const [delivery] = await deliveries(webhook.id);
      return delivery?.status === 'pending' && delivery.lastStatusCode === 503 ? delivery : null;
    },
    30_000,
  );
  expect(failing.lastError).toMatch(/^HTTP 503: answer 503/);

  const delivered = await waitFor(
    'the delivery to succeed',
    async () => {
      const [delivery] = await deliveries(webhook.id);
      return delivery?.status === 'delivered' ? delivery : null;
    },
    60_000,
  );
  expect(delivered).toMatchObject({
    webhookId: webhook.id,
    type: 'job.cancelled',
    attempts: 3,
    lastStatusCode: 200,
    lastError: null,
    deliveredAt: expect.any(String),
  });
  expect(flaky.requests.map((r) => r.answered)).toEqual([503, 503, 200]);

  // Every try sends the same delivery, each freshly signed.
  const last = flaky.requests[2]!;
  for (const request of flaky.requests) {
    expect(request.body).toBe(last.body);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['danube-webhook-id']).toBe(webhook.id);
    expect(request.headers['danube-delivery-id']).toBe(delivered.id);
    expect(verify(webhook.secret, request.headers['danube-signature'], request.body)).toBe(true);
  }
  const event = JSON.parse(last.body);
  expect(Object.keys(event)).toEqual(['id', 'type', 'createdAt', 'data']);
  expect(event).toEqual({
    id: delivered.eventId,
    type: 'job.cancelled',
    createdAt: expect.any(String),
    data: expect.objectContaining({ jobId, topic: 'retry', status: 'cancelled', from: 'queued' }),
  });
  expect(delivered.payload).toEqual(event);

  // The snippet refuses what it should: another body or secret, and an old timestamp.
  const header = String(last.headers['danube-signature']);
  const t = Number(/t=(\d+)/.exec(header)![1]);
  expect(verify(webhook.secret, header, last.body.replace('cancelled', 'succeeded'))).toBe(false);
  expect(verify('whsec_someone-else', header, last.body)).toBe(false);
  expect(verify(webhook.secret, header, last.body, (t + 299) * 1000)).toBe(true);
  expect(verify(webhook.secret, header, last.body, (t + 301) * 1000)).toBe(false);
  expect(verify(webhook.secret, undefined, last.body)).toBe(false);
}, 90_000);

it('gives up on a receiver that never answers after maxAttempts tries, each ended by the timeout', async () => {
  const silent = await receiver(() => 'hang');
  const webhook = await createWebhook({
    url: silent.url,
    events: ['job.cancelled'],
    topic: 'silent',
    maxAttempts: 2,
  });
  await cancelledJob('silent');

  const failed = await waitFor(
    'the delivery to fail',
    async () => {
      const [delivery] = await deliveries(webhook.id);
      return delivery?.status === 'failed' ? delivery : null;
    },
    80_000,
    250,
  );
  expect(failed).toMatchObject({
    attempts: 2,
    maxAttempts: 2,
    lastStatusCode: null,
    lastError: expect.stringMatching(/timeout/),
    deliveredAt: null,
  });
  expect(silent.requests).toHaveLength(2);
  expect(silent.requests.every((r) => r.answered === null)).toBe(true);
}, 120_000);

it("sends each webhook the kinds and topic it asked for, and only its own tenant's events", async () => {
  const otherKey = await tenantWithKey(api, 'webhook-neighbours', { role: 'member' });
  const [alpha, finished, neighbour] = await Promise.all([receiver(), receiver(), receiver()]);
  const alphaHook = await createWebhook({
    url: alpha.url,
    events: ['job.cancelled'],
    topic: 'alpha',
  });
  const finishedHook = await createWebhook({
    url: finished.url,
    events: ['job.succeeded', 'workflow.finished'],
  });
  const neighbourHook = await createWebhook(
    {
      url: neighbour.url,
      events: [
        'job.succeeded',
        'job.failed',
        'job.timed_out',
        'job.cancelled',
        'workflow.finished',
      ],
    },
    bearer(otherKey),
  );

  // Another tenant's webhook does not exist for this one, and the other way round.
  for (const path of [`${alphaHook.id}`, `${alphaHook.id}/deliveries`]) {
    const seen = await http('GET', `${api.url}/v1/webhooks/${path}`, undefined, bearer(otherKey));
    expect({ path, status: seen.status }).toEqual({ path, status: 404 });
  }
  const deleted = await http(
    'DELETE',
    `${api.url}/v1/webhooks/${alphaHook.id}`,
    undefined,
    bearer(otherKey),
  );
  expect(deleted.status).toBe(404);
  const mine = await http('GET', `${api.url}/v1/webhooks/${neighbourHook.id}`);
  expect(mine.status).toBe(404);
  const listed = await http('GET', `${api.url}/v1/webhooks`, undefined, bearer(otherKey));
  expect(listed.body.items.map((w: { id: string }) => w.id)).toEqual([neighbourHook.id]);

  const cancelledAlpha = await cancelledJob('alpha');
  await cancelledJob('beta');
  const ran = await http('POST', `${api.url}/v1/jobs`, { topic: 'alpha', command: 'true' });
  expect((await jobEnded(api.url, ran.body.id)).status).toBe('succeeded');
  const workflow = await http('POST', `${api.url}/v1/workflows`, {
    name: 'hooked',
    nodes: [{ name: 'a', topic: 'gamma', command: 'true', runAt: LATER }],
  });
  expect(workflow.status).toBe(201);
  const stopped = await http('POST', `${api.url}/v1/workflows/${workflow.body.id}/cancel`, {});
  expect(stopped.status).toBe(200);

  const received = (r: Receiver) => r.requests.map((q) => JSON.parse(q.body));
  await waitFor(
    'the job.succeeded and workflow.finished deliveries',
    () => finished.requests.length >= 2,
    30_000,
  );
  await waitFor('the alpha job.cancelled delivery', () => alpha.requests.length >= 1, 30_000);

  // The neighbour's own event comes after all of the above: once it has been delivered,
  // the scanner has gone past every event of this tenant, and nothing more can come.
  const theirs = await cancelledJob('alpha', bearer(otherKey));
  await waitFor('the neighbour tenant delivery', () => neighbour.requests.length >= 1, 30_000);

  expect(received(alpha).map((e) => [e.type, e.data.jobId])).toEqual([
    ['job.cancelled', cancelledAlpha],
  ]);
  expect(
    received(finished).map((e) => [e.type, e.data.jobId ?? e.data.workflowId, e.data.status]),
  ).toEqual([
    ['job.succeeded', ran.body.id, 'succeeded'],
    ['workflow.finished', workflow.body.id, 'cancelled'],
  ]);
  expect(received(neighbour).map((e) => [e.type, e.data.jobId])).toEqual([
    ['job.cancelled', theirs],
  ]);
  // The logs agree with what arrived: no delivery stored that was not sent.
  expect((await deliveries(alphaHook.id)).length).toBe(1);
  expect((await deliveries(finishedHook.id)).length).toBe(2);
  expect((await deliveries(neighbourHook.id, bearer(otherKey))).length).toBe(1);
}, 120_000);
