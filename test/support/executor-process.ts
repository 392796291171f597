import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../libs/db/src';
import { spawnTracked } from './processes';
import { waitFor } from './wait-for';

// From the repository root: this file also runs compiled, from dist/ (the chaos harness).
const MAIN = join(projectRoot(), 'dist', 'apps', 'executor', 'src', 'main.js');

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
  /** Sends a signal to the executor process alone (SIGSTOP and SIGCONT pause and resume it). */
  signal(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
  readonly hasExited: boolean;
}

/** A real executor process (the built dist/ one, as `npm test` builds first). */
export async function startExecutor(
  databaseUrl: string,
  id: string,
  env: Record<string, string> = {},
): Promise<ExecutorProcess> {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run the tests with npm test, which builds first`);
  const process_ = spawnTracked(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      EXECUTOR_INSTANCE_ID: id,
      EXECUTOR_POLL_INTERVAL_MS: '200',
      EXECUTOR_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  const { output } = process_;
  try {
    // Generous: on a busy machine (other suites' processes beside this one) a Node process
    // can take many seconds to load; the wait ends as soon as the executor says it started.
    await waitFor(
      `executor ${id} to start`,
      () => {
        if (process_.hasExited) throw new Error(`executor ${id} exited:\n${output()}`);
        return output().includes(`executor ${id} started`);
      },
      60_000,
    );
    const url = await waitFor(`executor ${id} to serve HTTP`, () => {
      const match = /serves \/metrics, \/healthz and \/readyz on (http:\/\/[\d.]+:\d+)/.exec(
        output(),
      );
      return match?.[1];
    });
    return {
      id,
      url,
      pid: process_.pid,
      output,
      exited: process_.exited,
      get hasExited() {
        return process_.hasExited;
      },
      signal: (signal) => process_.signal(signal),
      async stop() {
        process_.signal('SIGTERM');
        return process_.exited;
      },
      kill: () => process_.kill(),
    };
  } catch (error) {
    await process_.kill();
    throw error;
  }
}
