import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'executor', 'src', 'main.js');

export interface ExecutorProcess {
  id: string;
  /** Its HTTP server: /metrics, /healthz, /readyz. */
  url: string;
  pid: number;
  output(): string;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: the executor dies without a word, as on a node failure. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/** A real executor process (the built dist/ one, as `npm test` builds first). */
export async function startExecutor(
  databaseUrl: string,
  id: string,
  env: Record<string, string> = {},
): Promise<ExecutorProcess> {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run the tests with npm test, which builds first`);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      EXECUTOR_INSTANCE_ID: id,
      EXECUTOR_POLL_INTERVAL: '200',
      EXECUTOR_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(`executor ${id} to start`, () => {
    if (child.exitCode !== null)
      throw new Error(`executor ${id} exited with ${child.exitCode}:\n${output}`);
    return output.includes(`executor ${id} started`);
  });
  const url = await waitFor(`executor ${id} to serve HTTP`, () => {
    const match = /serves \/metrics, \/healthz and \/readyz on (http:\/\/[\d.]+:\d+)/.exec(output);
    return match?.[1];
  });
  return {
    id,
    url,
    pid: child.pid!,
    output: () => output,
    exited,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
