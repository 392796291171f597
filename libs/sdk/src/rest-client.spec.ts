import { DanubeApiError, DanubeClient } from './rest-client';

describe('DanubeClient', () => {
  const realFetch = global.fetch;
  const realKey = process.env.DANUBE_API_KEY;
  let calls: { url: string; init: RequestInit }[];

  const answer = (status: number, body: unknown) =>
    jest.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(body), { status });
    });

  const headersOf = (i: number) => calls[i].init.headers as Record<string, string>;

  beforeEach(() => {
    calls = [];
    delete process.env.DANUBE_API_KEY;
    global.fetch = answer(200, { jobId: '1', status: 'queued', reasons: [] }) as any;
  });

  afterEach(() => {
    global.fetch = realFetch;
    if (realKey === undefined) delete process.env.DANUBE_API_KEY;
    else process.env.DANUBE_API_KEY = realKey;
  });

  it('sends the key given as a bearer token, on requests and streams alike', async () => {
    const client = new DanubeClient('http://api.test/', { apiKey: 'dnb_given' });
    await client.get('1');
    await client.stream('/v1/jobs/1/logs?follow=true');
    expect(headersOf(0).authorization).toBe('Bearer dnb_given');
    expect(headersOf(1).authorization).toBe('Bearer dnb_given');
  });

  it('takes the key from DANUBE_API_KEY when none is given', async () => {
    process.env.DANUBE_API_KEY = 'dnb_env';
    await new DanubeClient('http://api.test').submit({ topic: 't', command: 'true' });
    expect(headersOf(0)).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer dnb_env',
    });
  });

  it('sends no authorization without a key', async () => {
    await new DanubeClient('http://api.test').get('1');
    expect(headersOf(0)).toEqual({});
  });

  it('asks why a job waits, and for usage with only the query given', async () => {
    const client = new DanubeClient('http://api.test');
    await expect(client.why('7')).resolves.toEqual({ jobId: '1', status: 'queued', reasons: [] });
    await client.usage();
    await client.usage({ from: '2026-01-01T00:00:00.000Z', groupBy: 'topic' });
    expect(calls.map((c) => c.url)).toEqual([
      'http://api.test/v1/jobs/7/why',
      'http://api.test/v1/usage',
      'http://api.test/v1/usage?from=2026-01-01T00%3A00%3A00.000Z&groupBy=topic',
    ]);
  });

  it("turns a 401 into DanubeApiError with the API's message", async () => {
    global.fetch = answer(401, { statusCode: 401, message: 'missing API key' }) as any;
    await expect(new DanubeClient('http://api.test').get('1')).rejects.toEqual(
      expect.objectContaining({
        constructor: DanubeApiError,
        status: 401,
        message: 'GET /v1/jobs/1: 401 missing API key',
      }),
    );
  });
});
