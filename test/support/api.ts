import type { INestApplication } from '@nestjs/common';
import { loadApiOptions } from '../../apps/api/src/api.config';
import { ApiModule } from '../../apps/api/src/api.module';
import { createApiApp } from '../../apps/api/src/create-api-app';

export interface TestApi {
  url: string;
  app: INestApplication;
  close(): Promise<void>;
}

/** The real API application, in this process, listening on a free loopback port. */
export async function startApi(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<TestApi> {
  const options = loadApiOptions({ LOG_LEVEL: 'warn', ...env }, databaseUrl);
  const app = await createApiApp(ApiModule.forRoot(options), options);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, app, close: () => app.close() };
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
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
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
