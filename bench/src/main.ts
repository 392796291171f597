import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import { Command } from 'commander';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '@danube/db';
import { percentiles, spread, type Percentiles, type Spread } from './stats';
import { SYSTEMS, type SystemName } from './systems';

/**
 * `npm run bench`: Danube side by side with graphile-worker and pg-boss on one Postgres,
 * each run in a fresh child process against a fresh database, systems interleaved run by
 * run so that drift in the machine's speed falls on all of them alike.
 */
const program = new Command()
  .name('npm run bench --')
  .description('Danube vs graphile-worker vs pg-boss on the same Postgres')
  .option('--quick', 'small sizes, one repetition: a smoke run in well under 2 minutes')
  .option('--reps <n>', 'repetitions of each scenario', (v) => Number.parseInt(v, 10))
  .option('--scenarios <list>', 'comma-separated: drain,enqueue,latency', 'drain,enqueue,latency')
  .option(
    '--out <dir>',
    'where to write latest.json and latest.md',
    join(process.cwd(), 'bench', 'results'),
  )
  .showHelpAfterError();

interface Sizes {
  drainJobs: number;
  enqueueJobs: number;
  enqueueBatch: number;
  latencyJobs: number;
  latencyGapMs: number;
  reps: number;
}

const FULL: Sizes = {
  drainJobs: 20_000,
  enqueueJobs: 20_000,
  enqueueBatch: 1000,
  latencyJobs: 1000,
  latencyGapMs: 5,
  reps: 3,
};
const QUICK: Sizes = {
  drainJobs: 2000,
  enqueueJobs: 2000,
  enqueueBatch: 1000,
  latencyJobs: 100,
  latencyGapMs: 5,
  reps: 1,
};

type Scenario = 'drain' | 'enqueue' | 'latency';

const SYSTEMS_BY_SCENARIO: Record<Scenario, SystemName[]> = {
  drain: ['danube', 'graphile-worker-localqueue', 'graphile-worker-default', 'pg-boss'].filter(
    (s) => s in SYSTEMS,
  ) as SystemName[],
  enqueue: ['danube', 'danube-http', 'graphile-worker-localqueue', 'pg-boss'].filter(
    (s) => s in SYSTEMS,
  ) as SystemName[],
  latency: ['danube', 'graphile-worker-localqueue', 'graphile-worker-default', 'pg-boss'].filter(
    (s) => s in SYSTEMS,
  ) as SystemName[],
};

interface RunResult {
  jobsPerSecond?: number;
  seconds?: number;
  samplesMs?: number[];
  rssMb: number;
}

interface ScenarioReport {
  scenario: Scenario;
  unit: string;
  systems: Record<
    string,
    { throughput?: Spread; latency?: Percentiles & { p99Spread: Spread }; rssMb: Spread }
  >;
  ratios: Record<string, number>;
}

async function main(): Promise<void> {
  const opts = program
    .parse()
    .opts<{ quick?: boolean; reps?: number; scenarios: string; out: string }>();
  const sizes = { ...(opts.quick ? QUICK : FULL), ...(opts.reps ? { reps: opts.reps } : {}) };
  const scenarios = opts.scenarios.split(',').map((s) => s.trim()) as Scenario[];
  for (const s of scenarios)
    if (!(s in SYSTEMS_BY_SCENARIO))
      program.error(
        `unknown scenario ${s}; pick from ${Object.keys(SYSTEMS_BY_SCENARIO).join(', ')}`,
      );

  const pg = await postgres();
  process.stdout.write(`Postgres: ${pg.description}\nSizes: ${JSON.stringify(sizes)}\n\n`);
  const bars = new MultiBar(
    { format: ' {bar} {value}/{total} {task}', clearOnComplete: true, hideCursor: true },
    Presets.shades_classic,
  );
  const total = scenarios.reduce((n, s) => n + SYSTEMS_BY_SCENARIO[s].length * sizes.reps, 0);
  const bar = bars.create(total, 0, { task: 'starting' });

  const reports: ScenarioReport[] = [];
  let databaseCounter = 0;
  try {
    for (const scenario of scenarios) {
      const runs: Record<string, RunResult[]> = {};
      for (let rep = 0; rep < sizes.reps; rep++) {
        for (const system of SYSTEMS_BY_SCENARIO[scenario]) {
          bar.update({ task: `${scenario}: ${system} (run ${rep + 1} of ${sizes.reps})` });
          const database = `bench_${process.pid}_${databaseCounter++}`;
          const result = await withDatabase(pg.adminUrl, database, (url) =>
            runOne(system, scenario, url, optionsFor(scenario, sizes)),
          );
          (runs[system] ??= []).push(result);
          bar.increment();
        }
      }
      reports.push(summarise(scenario, runs));
    }
  } finally {
    bars.stop();
    await pg.stop();
  }

  const markdown = render(reports, sizes, pg.description);
  process.stdout.write(`\n${markdown}\n`);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(
    join(opts.out, 'latest.json'),
    JSON.stringify(
      { at: new Date().toISOString(), postgres: pg.description, sizes, reports },
      null,
      2,
    ),
  );
  writeFileSync(join(opts.out, 'latest.md'), `${markdown}\n`);
  process.stdout.write(`\nWrote ${join(opts.out, 'latest.json')} and latest.md\n`);
}

function optionsFor(scenario: Scenario, sizes: Sizes): Record<string, number> {
  switch (scenario) {
    case 'drain':
      return { jobs: sizes.drainJobs };
    case 'enqueue':
      return { jobs: sizes.enqueueJobs, batchSize: sizes.enqueueBatch };
    case 'latency':
      return { jobs: sizes.latencyJobs, gapMs: sizes.latencyGapMs };
  }
}

async function postgres(): Promise<{
  adminUrl: string;
  description: string;
  stop: () => Promise<void>;
}> {
  if (process.env.DATABASE_URL)
    return {
      adminUrl: process.env.DATABASE_URL,
      description: 'DATABASE_URL',
      stop: async () => undefined,
    };
  const dir = mkdtempSync(join(tmpdir(), 'danube-bench-pg-'));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: join(dir, 'data'),
    persistent: false,
    settings: { max_connections: '200' },
  });
  const client = new Client({ connectionString: pg.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return {
    adminUrl: pg.databaseUrl,
    description: `embedded PostgreSQL ${rows[0]!.server_version}, default (durable) settings`,
    stop: pg.stop,
  };
}

async function withDatabase<T>(
  adminUrl: string,
  name: string,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function runOne(
  system: SystemName,
  scenario: Scenario,
  databaseUrl: string,
  options: Record<string, number>,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(__dirname, 'run-one.js'), JSON.stringify({ system, scenario, databaseUrl, options })],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'warn', NODE_NO_WARNINGS: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as RunResult);
      else
        reject(new Error(`${system} ${scenario} failed (exit ${code}):\n${stderr.slice(-2000)}`));
    });
  });
}

function summarise(scenario: Scenario, runs: Record<string, RunResult[]>): ScenarioReport {
  const systems: ScenarioReport['systems'] = {};
  for (const [system, results] of Object.entries(runs)) {
    const rssMb = spread(results.map((r) => r.rssMb));
    if (scenario === 'latency') {
      const perRun = results.map((r) => percentiles(r.samplesMs ?? []));
      const all = percentiles(results.flatMap((r) => r.samplesMs ?? []));
      systems[system] = { latency: { ...all, p99Spread: spread(perRun.map((p) => p.p99)) }, rssMb };
    } else {
      systems[system] = { throughput: spread(results.map((r) => r.jobsPerSecond ?? 0)), rssMb };
    }
  }
  const ratios: Record<string, number> = {};
  const ours = systems.danube;
  for (const [system, s] of Object.entries(systems)) {
    if (system.startsWith('danube') || !ours) continue;
    ratios[system] =
      scenario === 'latency'
        ? ours.latency!.p99 / s.latency!.p99
        : ours.throughput!.median / s.throughput!.median;
  }
  return {
    scenario,
    unit: scenario === 'latency' ? 'ms (enqueue to start)' : 'jobs/s',
    systems,
    ratios,
  };
}

function render(reports: ScenarioReport[], sizes: Sizes, postgresDescription: string): string {
  const lines = [
    `# Danube benchmark`,
    '',
    `Postgres: ${postgresDescription}. Repetitions: ${sizes.reps}. Median (min-max) over repetitions.`,
    '',
  ];
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  for (const report of reports) {
    lines.push(`## ${report.scenario} (${report.unit})`, '');
    if (report.scenario === 'latency') {
      lines.push(
        '| system | p50 | p95 | p99 | p99 per run (min-max) | max | Danube p99 / this p99 |',
        '| --- | --- | --- | --- | --- | --- | --- |',
      );
      for (const [system, s] of Object.entries(report.systems)) {
        const l = s.latency!;
        const ratio = report.ratios[system];
        lines.push(
          `| ${system} | ${fmt(l.p50)} | ${fmt(l.p95)} | ${fmt(l.p99)} | ${fmt(l.p99Spread.min)}-${fmt(l.p99Spread.max)} | ${fmt(l.max)} | ${ratio === undefined ? '' : ratio.toFixed(2)} |`,
        );
      }
    } else {
      lines.push(
        '| system | jobs/s | min-max | RSS MB | Danube / this |',
        '| --- | --- | --- | --- | --- |',
      );
      for (const [system, s] of Object.entries(report.systems)) {
        const t = s.throughput!;
        const ratio = report.ratios[system];
        lines.push(
          `| ${system} | ${fmt(t.median)} | ${fmt(t.min)}-${fmt(t.max)} | ${fmt(s.rssMb.median)} | ${ratio === undefined ? '' : ratio.toFixed(2)} |`,
        );
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
