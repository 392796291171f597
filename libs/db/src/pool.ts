import { Pool, type PoolConfig } from 'pg';

/**
 * How long the API's statements wait for a row another session holds (someone's open
 * transaction) before they fail and the request is answered with 409.
 */
export const LOCK_TIMEOUT_MS = 5000;

/**
 * The same for executors, shorter: an executor's writes come back to a locked row later
 * (see BatchLocking in libs/queue) rather than wait, and its claims, renewals and reaping
 * skip locked rows outright.
 */
export const EXECUTOR_LOCK_TIMEOUT_MS = 1000;

export interface PoolOptions {
  databaseUrl: string;
  max?: number;
  applicationName?: string;
  /**
   * Longest a statement waits for a row lock before failing (ms; 0: forever). A session
   * that holds a lock and idles (someone's open transaction in psql) must not stall the
   * process: its statements fail after this long and are retried, or answered with an error.
   */
  lockTimeoutMs?: number;
}

/**
 * `PoolClass`: another copy of pg's Pool, for a library that must use the pg it loaded
 * itself (graphile-worker, see libs/housekeeping).
 */
export function createPool(
  { databaseUrl, max = 10, applicationName = 'danube', lockTimeoutMs = 0 }: PoolOptions,
  PoolClass: typeof Pool = Pool,
): Pool {
  const config: PoolConfig = {
    connectionString: databaseUrl,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Dead connections are noticed by the kernel, not only by the next query that hangs.
    keepAlive: true,
    ...(lockTimeoutMs > 0 ? { options: `-c lock_timeout=${lockTimeoutMs}` } : {}),
  };
  const pool = new PoolClass(config);
  // A broken idle connection (server restart, network blip) must not crash the process;
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => undefined);
  // pg-pool listens for errors only on idle clients. A checked-out client (a transaction in
  // progress) whose connection dies emits 'error' with no listener, which ends the process;
  // this listener keeps it alive. The query in flight fails on its own, and the transaction
  // helper gives the broken client back to be destroyed.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
