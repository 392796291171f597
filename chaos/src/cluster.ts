import { Client, type Pool } from 'pg';
import { createPool, migrate } from '../../libs/db/src';
import { startApiProcess, type ApiProcess } from '../../test/support/api-process';
import { withApiKey } from '../../test/support/api-keys';
import { startExecutor, type ExecutorProcess } from '../../test/support/executor-process';
import type { PostgresServer } from './postgres-server';

/**
 * Lease settings of every chaos run: short, so that faults play out in seconds. The fence
 * margin is the executor's default for this lease (a fifth of it, at most 2 s): a job whose
 * lease was not renewed is killed 1.2 s before the lease could end.
 */
export const LEASE = {
  EXECUTOR_LEASE_MS: '6000',
  EXECUTOR_HEARTBEAT_MS: '2000',
  EXECUTOR_REAP_INTERVAL_MS: '1000',
  EXECUTOR_POLL_INTERVAL_MS: '500',
};
export const LEASE_SECONDS = Number(LEASE.EXECUTOR_LEASE_MS) / 1000;

export interface ExecutorEvent {
  id: string;
  kind: 'crashed';
  at: number;
  detail: string;
}

/** The fields of the API's answers the harness reads. */
export interface ApiBody {
  id?: string;
  jobs?: { id: string }[];
  message?: string;
}

/** HTTP answers the harness saw, by class. */
export interface HttpTally {
  requests: number;
  /** 5xx other than 503. */
  serverErrors: number;
  /** 503: the API said the database is out of reach; the harness retried. */
  unavailable: number;
  /** No answer at all (connection refused or reset, timeout). */
  noAnswer: number;
  examples: string[];
}

/**
 * One scenario's system: a fresh database on the harness's Postgres, the API and N
 * executors as processes (built dist/ programs, process runtime), and the harness's own
 * pool for checks. Executors that exit when the harness did not end them are crashes.
 */
export class Cluster {
  readonly executors = new Map<string, ExecutorProcess>();
  readonly events: ExecutorEvent[] = [];
  readonly http: HttpTally = {
    requests: 0,
    serverErrors: 0,
    unavailable: 0,
    noAnswer: 0,
    examples: [],
  };
  private readonly ending = new Set<string>();
  private generation = 0;

  private constructor(
    readonly pg: PostgresServer,
    readonly database: string,
    readonly pool: Pool,
    readonly api: ApiProcess,
    private readonly executorEnv: Record<string, string>,
  ) {}

  static async start(
    pg: PostgresServer,
    database: string,
    options: { executors: number; env?: Record<string, string> },
  ): Promise<Cluster> {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    const url = pg.urlOf(database);
    await migrate({ databaseUrl: url });
    const api = await startApiProcess(url, { LOG_LEVEL: 'warn' });
    const pool = createPool({ databaseUrl: url, max: 4, applicationName: 'chaos-harness' });
    const cluster = new Cluster(pg, database, pool, api, {
      ...api.executorEnv,
      ...LEASE,
      EXECUTOR_CONCURRENCY: '10',
      EXECUTOR_BATCH_SIZE: '5',
      EXECUTOR_KILL_GRACE_MS: '500',
      EXECUTOR_SHUTDOWN_GRACE_MS: '2000',
      ...options.env,
    });
    for (let i = 0; i < options.executors; i++) await cluster.addExecutor();
    return cluster;
  }

  get url(): string {
    return this.api.url;
  }

  /** Starts one more executor, with a name never used before in this run. */
  async addExecutor(): Promise<ExecutorProcess> {
    const id = `chaos-${++this.generation}`;
    const executor = await startExecutor(this.pg.urlOf(this.database), id, this.executorEnv);
    this.executors.set(id, executor);
    void executor.exited.then((code) => {
      if (!this.ending.has(id)) {
        const tail = executor.output().split('\n').slice(-15).join('\n');
        this.events.push({
          id,
          kind: 'crashed',
          at: Date.now() / 1000,
          detail: `exit ${code}:\n${tail}`,
        });
      }
    });
    return executor;
  }

  /** Executors that are running (not ended by the harness, not crashed). */
  live(): ExecutorProcess[] {
    return [...this.executors.values()].filter((e) => !e.hasExited && !this.ending.has(e.id));
  }

  /** SIGKILL, as the harness's own fault: not a crash. */
  async kill(executor: ExecutorProcess): Promise<void> {
    this.ending.add(executor.id);
    await executor.kill();
  }

  /** Sends a JSON request to the API, counting what comes back; never throws. */
  async request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: ApiBody } | null> {
    this.http.requests++;
    try {
      const response = await fetch(`${this.api.url}${path}`, {
        method,
        headers: withApiKey(
          this.api.url,
          body === undefined ? {} : { 'content-type': 'application/json' },
        ),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status === 503) this.http.unavailable++;
      else if (response.status >= 500) {
        this.http.serverErrors++;
        if (this.http.examples.length < 5)
          this.http.examples.push(`${method} ${path} -> ${response.status}: ${text.slice(0, 300)}`);
      }
      let parsed: ApiBody = {};
      try {
        parsed = JSON.parse(text) as ApiBody;
      } catch {
        parsed = { message: text };
      }
      return { status: response.status, body: parsed };
    } catch {
      this.http.noAnswer++;
      return null;
    }
  }

  /** Stops every executor gracefully and the API; drops nothing (the report reads the database first). */
  async stop(): Promise<void> {
    for (const executor of this.executors.values()) this.ending.add(executor.id);
    await Promise.all(
      [...this.executors.values()].map(async (e) => {
        if (e.hasExited) return;
        e.signal('SIGCONT');
        const stopped = await Promise.race([
          e.stop(),
          new Promise((resolve) => setTimeout(() => resolve('late'), 30_000)),
        ]);
        if (stopped === 'late') await e.kill();
      }),
    );
    await this.api.stop();
    await this.pool.end();
  }
}
