import { Pool, type PoolConfig } from 'pg';

export interface PoolOptions {
  databaseUrl: string;
  max?: number;
  applicationName?: string;
}

export function createPool({
  databaseUrl,
  max = 10,
  applicationName = 'danube',
}: PoolOptions): Pool {
  const config: PoolConfig = {
    connectionString: databaseUrl,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  };
  const pool = new Pool(config);
  // A broken idle connection (server restart, network blip) must not crash the process;
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}
