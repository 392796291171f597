import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../libs/db/src';
import { spawnTracked } from './support/processes';
import { waitFor } from './support/wait-for';

/**
 * Danube on the current Node.js LTS lines, not only on the Node that runs the suite: the
 * same build (dist/), run by Node 22 and Node 24 binaries from the npm registry's `node`
 * package (fetched by npx into its cache on first use). For each: what `npm start` runs
 * (embedded Postgres, API, executor, the first job), a job submitted with the CLI and
 * waited for, and a clean stop.
 */
const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');
const CLI = join(ROOT, 'bin', 'danube.js');

function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      command,
      args,
      { env: options.env ?? process.env, timeout: options.timeout ?? 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) || 1 : 0, stdout, stderr }),
    ),
  );
}

/** The path of a Node binary of `major` from the npm registry's `node` package. */
async function nodeBinary(major: number): Promise<string> {
  const found = await run(
    'npx',
    ['--yes', '-p', `node@${major}`, 'node', '-e', 'console.log(process.execPath)'],
    { timeout: 300_000 },
  );
  if (found.code !== 0)
    throw new Error(
      `could not get Node ${major} from the npm registry (npx -p node@${major}): ${found.stderr}`,
    );
  return found.stdout.trim();
}

describe.each([22, 24])('on Node %i', (major) => {
  it('npm start runs the first job, the CLI submits and waits for one, and it stops cleanly', async () => {
    const node = await nodeBinary(major);
    const version = await run(node, ['--version']);
    expect(version.stdout).toMatch(new RegExp(`^v${major}\\.`));

    const folder = mkdtempSync(join(tmpdir(), `danube-node${major}-`));
    chmodSync(folder, 0o755);
    const dataDir = join(folder, '.danube');
    const danube = spawnTracked(node, [MAIN], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        DANUBE_DATA_DIR: dataDir,
        EXECUTOR_POLL_INTERVAL_MS: '200',
        GRPC_PORT: String(await freePort()),
      },
    });
    try {
      const url = await waitFor(
        'the API URL',
        () => /Danube is up: API (http:\/\/127\.0\.0\.1:\d+)/.exec(danube.output())?.[1],
        90_000,
      );
      await waitFor(
        'the first job',
        () => /first job 1: succeeded; it printed: hello from job 1/.test(danube.output()),
        60_000,
      );
      const submitted = await run(
        node,
        [CLI, 'submit', '--wait', '--json', '--shell', `echo "node ${major}"`],
        {
          env: {
            PATH: process.env.PATH,
            DANUBE_API_URL: url,
            DANUBE_API_KEY: readFileSync(join(dataDir, 'admin-key'), 'utf8').trim(),
          },
        },
      );
      expect({ code: submitted.code, stderr: submitted.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(submitted.stdout)).toMatchObject({ status: 'succeeded', attempts: 1 });
    } finally {
      danube.signal('SIGTERM');
      await danube.exited;
    }
    const code = await danube.exited;
    expect({ code, output: code === 0 ? '' : danube.output().slice(-3000) }).toEqual({
      code: 0,
      output: '',
    });
  }, 400_000);
});
