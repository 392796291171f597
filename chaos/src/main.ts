import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { projectRoot } from '../../libs/db/src';
import { killAllTracked } from '../../test/support/processes';
import type { ScenarioResult } from './checks';
import { runFuzz } from './fuzz/fuzz-scenario';
import { PostgresServer } from './postgres-server';
import { reliabilityReport } from './report';
import { runScenario, SCENARIOS, soakScenario, type Size } from './scenarios';

/**
 * `npm run chaos`: the fault scenarios against real processes on loopback, each bounded in
 * time and ending in exact checks; writes docs/reliability.md. `--ci` runs smaller sizes;
 * `--soak [minutes]` runs the soak alone. Exits 1 when any scenario fails its checks.
 */
const ALL = 'a,b,c,d,e,f,g';

const program = new Command('chaos')
  .option('-s, --scenario <ids>', 'scenarios to run, e.g. b,c,g (default: a-g)', ALL)
  .option('--ci', 'smaller sizes, as npm test runs them')
  .option('--soak [minutes]', 'run the soak (h) alone, for this many minutes (default 30)', (v) =>
    positive(v),
  )
  .option('--cases <n>', 'fuzzing cases per route and method', (v) => positive(v))
  .option('--seed <n>', 'fuzzing seed', (v) => positive(v), 20261201)
  .option('--json <file>', 'also write the results as JSON')
  .option(
    '--report <file>',
    'where to write the reliability report (default: docs/reliability.md, after a full run of a-g)',
  )
  .parse();

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

interface Options {
  scenario: string;
  ci?: boolean;
  soak?: number | boolean;
  cases?: number;
  seed: number;
  json?: string;
  report?: string;
}

async function main(): Promise<number> {
  const options = program.opts<Options>();
  const size: Size = options.ci ? 'ci' : 'full';
  const dir = mkdtempSync(join(tmpdir(), 'danube-chaos-'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const pg = await PostgresServer.create(dir);
  const results: ScenarioResult[] = [];
  const soakMinutes = options.soak === true ? 30 : (options.soak ?? 0) || 0;
  // Postgres, the API and the executors run in process groups of their own, which a
  // Ctrl-C does not reach: they are ended here.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: ending the chaos run and everything it started`);
      killAllTracked();
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Postgres may still be writing as it dies; the folder is in the system's temp dir.
      }
      process.exit(130);
    });
  }
  try {
    const wanted = soakMinutes > 0 ? ['h'] : options.scenario.split(',').map((s) => s.trim());
    for (const id of wanted) {
      const result =
        id === 'g'
          ? await runFuzz(pg, options.cases ?? (size === 'ci' ? 1000 : 10_000), options.seed, log)
          : await runScenario(
              pg,
              dir,
              id === 'h' ? soakScenario(soakMinutes || 30) : scenarioById(id),
              size,
              log,
            );
      results.push(result);
      log(summary(result));
    }
  } finally {
    await pg.shutdown('fast');
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.json) writeFileSync(options.json, JSON.stringify({ results }, null, 2));
  // Only a full run of (a)-(g) rewrites the committed report; a soak or a subset does not.
  const fullRun = size === 'full' && soakMinutes === 0 && options.scenario === ALL;
  const report = options.report ?? (fullRun ? join(projectRoot(), 'docs', 'reliability.md') : null);
  if (report) {
    writeFileSync(report, reliabilityReport(results, startedAt));
    log(`wrote ${report}`);
  }
  return results.every((r) => r.pass) ? 0 : 1;
}

function scenarioById(id: string) {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new Error(`no scenario "${id}": choose from a-h`);
  return scenario;
}

function summary(r: ScenarioResult): string {
  return [
    `(${r.scenario}) ${r.pass ? 'pass' : 'FAIL'} in ${r.seconds.toFixed(0)} s:`,
    r.cases !== undefined ? `${r.cases} cases` : `${r.jobs} jobs, ${r.succeeded} succeeded`,
    `lost ${r.lost}, stuck ${r.stuck}, failed ${r.failed}, untracked ${r.untrackedRuns}/${r.attemptsWithoutRecord},`,
    `concurrent ${r.concurrentDoubleRuns}, double successes ${r.doubleSuccesses},`,
    `recovery ${r.recoverySeconds === null ? '-' : `${r.recoverySeconds.toFixed(1)} s`} (unrecovered ${r.unrecovered}),`,
    `crashes ${r.executorCrashes}, 5xx ${r.http.serverErrors}, 503 ${r.http.unavailable}`,
    ...(r.pass ? [] : ['\n  ' + r.notes.join('\n  ')]),
  ].join(' ');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
