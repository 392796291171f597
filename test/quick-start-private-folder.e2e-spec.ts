/**
 * The quick start as root in a folder only root may enter (a clone in /root, or a mktemp -d
 * folder): Postgres runs as the `postgres` user, who cannot reach the clone's
 * node_modules nor its .danube folder, so its programs and data are placed under
 * /var/lib/danube, and npm start says so.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, placeDataDir, REACHABLE_ROOT } from '../libs/db/src';
import { spawnTracked, type TrackedProcess } from './support/processes';
import { waitFor } from './support/wait-for';

const ROOT = join(__dirname, '..');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const maybe = isRoot ? it : it.skip;

let folder: string | undefined;
let danube: TrackedProcess | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await danube?.kill();
  // The embedded Postgres leads a process group of its own: end it too if the test failed
  // before npm start could stop it.
  if (dataDir) {
    for (const pid of pidsRunning(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dirname(dataDir), { recursive: true, force: true });
  }
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function pidsRunning(dir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `postgres -D ${dir}`])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return [];
  }
}

maybe(
  `npm start as root in a folder of mode 0700 runs Postgres from ${REACHABLE_ROOT}, runs a job and stops cleanly${isRoot ? '' : ' (skipped: the tests do not run as root)'}`,
  async () => {
    folder = mkdtempSync(join(tmpdir(), 'danube-private-'));
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const clone = join(folder, 'danube');
    mkdirSync(clone);
    // The checkout's tracked files as they are now, its installed packages and its build,
    // times kept, so that npm start finds the build up to date.
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT }).toString().split('\0');
    for (const file of files.filter((f) => f && existsSync(join(ROOT, f)))) {
      cpSync(join(ROOT, file), join(clone, file), { preserveTimestamps: true });
    }
    for (const dir of ['node_modules', 'dist']) {
      cpSync(join(ROOT, dir), join(clone, dir), {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
      });
    }
    dataDir = placeDataDir(join(clone, '.danube', 'pg')).dataDir;
    expect(dataDir.startsWith(`${REACHABLE_ROOT}/`)).toBe(true);

    danube = spawnTracked('npm', ['start'], {
      cwd: clone,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        GRPC_PORT: String(await freePort()),
        EXECUTOR_POLL_INTERVAL_MS: '200',
      },
    });
    const started = danube;
    await waitFor(
      'the first job',
      () => {
        if (started.hasExited) throw new Error(`npm start exited:\n${started.output()}`);
        return /first job \d+: succeeded; it printed: hello from job \d+/.test(started.output());
      },
      240_000,
    );
    expect(started.output()).toContain(
      `Postgres runs as the user postgres (Danube runs as root), which cannot enter ${folder}: its data and programs are kept under ${REACHABLE_ROOT} instead.`,
    );
    expect(started.output()).toContain(`Starting an embedded Postgres in ${dataDir} ...`);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(pidsRunning(dataDir)).toHaveLength(1);

    // Ctrl-C: the whole foreground group gets SIGINT; Danube stops Postgres last, exits 0.
    process.kill(-started.pid, 'SIGINT');
    expect(await started.exited).toBe(0);
    await waitFor('Postgres to stop', () => pidsRunning(dataDir!).length === 0, 60_000);
  },
  400_000,
);
