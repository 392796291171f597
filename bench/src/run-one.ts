import { SYSTEMS, type ScenarioName, type SystemName } from './systems';

/**
 * Runs one scenario of one system in this (fresh) process and prints its result as the
 * last line of stdout: `RESULT {...}`. The orchestrator (main.ts) starts one per run.
 */
interface Task {
  system: SystemName;
  scenario: ScenarioName;
  databaseUrl: string;
  options: Record<string, number>;
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as Task;
  const system = SYSTEMS[task.system];
  if (!system) throw new Error(`unknown system ${task.system}`);
  const run = (system as Partial<Record<ScenarioName, unknown>>)[task.scenario];
  if (!run) throw new Error(`${task.system} has no ${task.scenario} scenario`);
  const result = await (run as (url: string, options: never) => Promise<object>).call(
    system,
    task.databaseUrl,
    task.options as never,
  );
  process.stdout.write(
    `RESULT ${JSON.stringify({ ...(result as object), rssMb: process.memoryUsage().rss / 2 ** 20 })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
