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
  /**
   * Longest a session may sit in an open transaction without sending a statement (ms; 0:
   * forever). Postgres then ends the session, rolling back and letting go of its locks: a
   * process stopped in the middle of a transaction (SIGSTOP, a stall) cannot keep rows and
   * advisory locks from everyone else until it wakes.
   */
  idleInTransactionTimeoutMs?: number;
}

export function createPool({
  databaseUrl,
  max = 10,
  applicationName = 'danube',
  lockTimeoutMs = 0,
  idleInTransactionTimeoutMs = 0,
}: PoolOptions): Pool {
  const settings = [
    ...(lockTimeoutMs > 0 ? [`-c lock_timeout=${lockTimeoutMs}`] : []),
    ...(idleInTransactionTimeoutMs > 0
      ? [`-c idle_in_transaction_session_timeout=${idleInTransactionTimeoutMs}`]
      : []),
  ];
  const config: PoolConfig = {
    connectionString: databaseUrl,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Dead connections are noticed by the kernel, not only by the next query that hangs.
    keepAlive: true,
    ...(settings.length > 0 ? { options: settings.join(' ') } : {}),
  };
  const pool = new Pool(config);
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
