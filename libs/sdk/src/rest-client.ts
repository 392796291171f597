/** A job as the REST API returns it (the fields most callers need; the rest are there too). */
export interface JobView {
  id: string;
  topic: string;
  status: string;
  attempts: number;
  progress: number | null;
  statusMessage: string | null;
  result: unknown;
  error: { category: string; message: string; exitCode: number | null } | null;
  [field: string]: unknown;
}

/** What POST /v1/jobs takes (see /docs for every field). */
export interface SubmitJob {
  topic: string;
  command: string[] | string;
  env?: Record<string, string>;
  secrets?: string[];
  secretEnv?: Record<string, string>;
  timeoutSeconds?: number;
  maxAttempts?: number;
  labels?: Record<string, string>;
  idempotencyKey?: string;
  [field: string]: unknown;
}

/** An HTTP error from the API, with its status and the API's message. */
export class DanubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'DanubeApiError';
  }
}

/** The API could not be reached at all (nothing listening, DNS, network). */
export class DanubeUnreachableError extends Error {
  constructor(
    readonly baseUrl: string,
    readonly reason: string,
  ) {
    super(`cannot reach the Danube API at ${baseUrl} (${reason})`);
    this.name = 'DanubeUnreachableError';
  }
}

const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'];

/** The REST API from a program: submit jobs, read them, wait for them, read their logs. */
export class DanubeClient {
  readonly baseUrl: string;

  constructor(baseUrl: string = process.env.DANUBE_API_URL ?? 'http://127.0.0.1:3000') {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  submit(job: SubmitJob): Promise<JobView> {
    return this.request('POST', '/v1/jobs', job);
  }

  get(id: string): Promise<JobView> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  cancel(id: string): Promise<JobView> {
    return this.request('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  }

  /** Every output line of the job, all attempts, oldest first. */
  async logs(id: string): Promise<{ attempt: number; stream: string; line: string }[]> {
    const lines: { attempt: number; stream: string; line: string }[] = [];
    let after = '0';
    for (;;) {
      const page = await this.request<{ lines: typeof lines; nextAfter: string }>(
        'GET',
        `/v1/jobs/${encodeURIComponent(id)}/logs?after=${after}&limit=10000`,
      );
      lines.push(...page.lines);
      if (page.lines.length === 0) return lines;
      after = page.nextAfter;
    }
  }

  /** Polls the job until it ends (or `timeoutMs` passes, which throws). */
  async wait(
    id: string,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<JobView> {
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    let interval = options.intervalMs ?? 200;
    for (;;) {
      const job = await this.get(id);
      if (TERMINAL.includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status} after waiting`);
      await new Promise((r) => setTimeout(r, interval));
      interval = Math.min(interval * 1.5, 2000);
    }
  }

  /** Any endpoint: the parsed JSON answer, or DanubeApiError / DanubeUnreachableError. */
  async request<T = JobView>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON (a proxy's error page, say): keep the text
    }
    if (!response.ok) {
      const message = (parsed as { message?: string } | null)?.message ?? text;
      throw new DanubeApiError(
        response.status,
        `${method} ${path}: ${response.status} ${message || response.statusText}`,
        parsed,
      );
    }
    return parsed as T;
  }

  /** A GET whose body the caller reads as it arrives (Server-Sent Events). */
  async stream(path: string): Promise<Response> {
    const response = await this.send('GET', path);
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: the text as it is
      }
      throw new DanubeApiError(response.status, `GET ${path}: ${response.status} ${message}`, text);
    }
    return response;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new DanubeUnreachableError(
        this.baseUrl,
        cause?.code ?? cause?.message ?? String(error),
      );
    }
  }
}
