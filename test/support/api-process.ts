import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, projectRoot } from '../../libs/db/src';
import { Keyring } from '../../libs/secrets/src';
import { spawnTracked } from './processes';
import { newAdminKey, rememberApiKey } from './api-keys';
import { waitFor } from './wait-for';

// From the repository root: this file also runs compiled, from dist/ (the chaos harness).
const MAIN = join(projectRoot(), 'dist', 'apps', 'api', 'src', 'main.js');

export interface ApiProcess {
  url: string;
  grpcAddress: string;
  artifactDir: string;
  pid: number;
  /** Everything the process has written to stdout and stderr so far. */
  output(): string;
  executorEnv: Record<string, string>;
  /** An admin key of the default tenant (http() sends it unless told otherwise). */
  adminKey: string;
  readonly hasExited: boolean;
  stop(): Promise<void>;
}

/** The API as its own process (the built dist/ one), so that its whole log can be read. */
export async function startApiProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ApiProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the tests with npm test`);
  const [port, grpcPort] = [await freePort(), await freePort()];
  const secretKey = Keyring.generate('test');
  const artifactDir = mkdtempSync(join(tmpdir(), 'danube-artifacts-'));
  const adminKey = env.DANUBE_ADMIN_KEY ?? newAdminKey();
  const api = spawnTracked(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      DANUBE_MIGRATE: 'false',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      DANUBE_SECRET_KEY: secretKey,
      ARTIFACT_DIR: artifactDir,
      LOG_LEVEL: 'debug',
      DANUBE_ADMIN_KEY: adminKey,
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // Generous, as for executors: on a busy machine a Node process can take many seconds to
    // load; the wait ends as soon as /healthz answers, or at once if the process exits.
    await waitFor(
      'the API process to answer /healthz',
      async () => {
        if (api.hasExited) throw new Error(`the API exited:\n${api.output()}`);
        return (await fetch(`${url}/healthz`).catch(() => null))?.ok;
      },
      60_000,
    );
  } catch (error) {
    await api.kill();
    throw error;
  }
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  rememberApiKey(url, adminKey);
  return {
    url,
    adminKey,
    grpcAddress,
    artifactDir,
    pid: api.pid,
    output: api.output,
    get hasExited() {
      return api.hasExited;
    },
    executorEnv: {
      DANUBE_SECRET_KEY: secretKey,
      DANUBE_GRPC_ADDRESS: grpcAddress,
      DANUBE_API_URL: url,
    },
    async stop() {
      api.signal('SIGTERM');
      await api.exited;
    },
  };
}
