import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiOptions } from '../../apps/api/src/api.config';
import { ApiModule } from '../../apps/api/src/api.module';
import { createApiApp, listenApi } from '../../apps/api/src/create-api-app';
import { freePort } from '../../libs/db/src';
import { Keyring } from '../../libs/secrets/src';
import { newAdminKey, rememberApiKey, withApiKey } from './api-keys';
import { waitFor } from './wait-for';

export interface TestApi {
  url: string;
  /** host:port of the JobService. */
  grpcAddress: string;
  /** Where the filesystem artifact store keeps its files. */
  artifactDir: string;
  app: INestApplication;
  /** An admin key of the default tenant (http() sends it unless told otherwise). */
  adminKey: string;
  /** What executors need to reach this API and to sign job tokens it accepts. */
  executorEnv: Record<string, string>;
  close(): Promise<void>;
}

/** The real API application (REST and gRPC), in this process, on free loopback ports. */
export async function startApi(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<TestApi> {
  const secretKey = env.DANUBE_SECRET_KEY ?? Keyring.generate('test');
  const grpcPort = await freePort();
  const artifactDir = env.ARTIFACT_DIR ?? mkdtempSync(join(tmpdir(), 'danube-artifacts-'));
  const adminKey = env.DANUBE_ADMIN_KEY ?? newAdminKey();
  const options = loadApiOptions(
    {
      LOG_LEVEL: 'warn',
      GRPC_PORT: String(grpcPort),
      DANUBE_SECRET_KEY: secretKey,
      ARTIFACT_DIR: artifactDir,
      DANUBE_ADMIN_KEY: adminKey,
      // graphile-worker's chores (schedules, retention, webhooks) poll twice a second; the
      // suites that test them turn them on.
      DANUBE_HOUSEKEEPING: 'off',
      ...env,
    },
    databaseUrl,
  );
  const app = await createApiApp(ApiModule.forRoot(options), options);
  try {
    await listenApi(app, { host: '127.0.0.1', port: 0, grpcPort: options.grpcPort });
  } catch (error) {
    // What started before the failure (pools, listeners) must not keep the test file alive.
    await app.close().catch(() => undefined);
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  rememberApiKey(url, adminKey);
  return {
    url,
    grpcAddress,
    artifactDir,
    app,
    adminKey,
    executorEnv: {
      DANUBE_SECRET_KEY: secretKey,
      DANUBE_GRPC_ADDRESS: grpcAddress,
      DANUBE_API_URL: url,
    },
    close: () => app.close(),
  };
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

export async function http<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method,
    headers: withApiKey(
      url,
      body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ),
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T };
}

/** Polls GET /v1/jobs/:id until the job has ended; resolves with it. */
export function jobEnded(apiUrl: string, id: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    `job ${id} to end`,
    async () => {
      const { body } = await http('GET', `${apiUrl}/v1/jobs/${id}`);
      return ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'].includes(body.status)
        ? body
        : null;
    },
    timeoutMs,
    100,
  );
}
