import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '@danube/db';
import { atEnd, describeMachine, machineFacts, type MachineFacts } from './machine';
import { runPlan, type CaseFailure, type RunResult, type ScenarioResult } from './run-plan';
import { percentiles, spread, type Spread } from './stats';
import type { ScenarioName, SystemName } from './systems';

/**
 * `npm run bench`: Danube side by side with graphile-worker and pg-boss on one Postgres.
 * Every run is a fresh child process against a fresh database; the runs of a scenario are
 * interleaved (A B C A B C ...) so that drift in the machine's speed falls on all alike.
 */
const SCENARIOS = [
  'drain',
  'enqueue',
  'latency',
  'depth',
  'fleet',
  'memory',
] as const satisfies readonly ScenarioName[];

interface Sizes {
  reps: number;
  drainJobs: number;
  enqueueJobs: number;
  enqueueBatch: number;
  latencyJobs: number;
  latencyGapMs: number;
  depthBackground: number[];
  depthJobs: number;
  fleetExecutors: number[];
  fleetJobs: number;
  memoryJobs: number;
  memorySleepSeconds: number;
}

const FULL: Sizes = {
  reps: 3,
  drainJobs: 20_000,
  enqueueJobs: 20_000,
  enqueueBatch: 1000,
  latencyJobs: 1000,
  latencyGapMs: 5,
  depthBackground: [10_000, 100_000, 1_000_000],
  depthJobs: 20_000,
  fleetExecutors: [1, 2, 4],
  fleetJobs: 20_000,
  memoryJobs: 1000,
  // Long enough for 1,000 starts: each is a synchronous spawn of the job's bash watchdog,
  // 13-20 ms on this machine, so the last job starts some 20 s after the first.
  memorySleepSeconds: 60,
};

const QUICK: Sizes = {
  reps: 1,
  drainJobs: 2000,
  enqueueJobs: 2000,
  enqueueBatch: 1000,
  latencyJobs: 100,
  latencyGapMs: 5,
  depthBackground: [10_000, 50_000],
  depthJobs: 2000,
  fleetExecutors: [1, 2],
  fleetJobs: 2000,
  memoryJobs: 100,
  // 100 starts take 2 s on a quiet machine; 20 s leaves room for a CI machine running other suites.
  memorySleepSeconds: 20,
};

const PEERS: SystemName[] = [
  'graphile-worker-localqueue',
  'graphile-worker-history',
  'graphile-worker-default',
  'pg-boss',
];

interface Case {
  label: string;
  system: SystemName;
  options: Record<string, number>;
}

function casesFor(scenario: (typeof SCENARIOS)[number], sizes: Sizes): Case[] {
  switch (scenario) {
    case 'drain':
      return (['danube', ...PEERS] as SystemName[]).map((system) => ({
        label: system,
        system,
        options: { jobs: sizes.drainJobs },
      }));
    case 'enqueue':
      return (
        ['danube', 'danube-http', 'graphile-worker-localqueue', 'pg-boss'] as SystemName[]
      ).map((system) => ({
        label: system === 'danube-http' ? 'danube (POST /v1/jobs/batch)' : system,
        system,
        options: { jobs: sizes.enqueueJobs, batchSize: sizes.enqueueBatch },
      }));
    case 'latency':
      return (['danube', ...PEERS] as SystemName[]).map((system) => ({
        label: system,
        system,
        options: { jobs: sizes.latencyJobs, gapMs: sizes.latencyGapMs },
      }));
    case 'depth':
      return sizes.depthBackground.map((background) => ({
        label: `${background.toLocaleString('en-US')} queued`,
        system: 'danube',
        options: { background, jobs: sizes.depthJobs },
      }));
    case 'fleet':
      return sizes.fleetExecutors.map((executors) => ({
        label: `${executors} executor process${executors === 1 ? '' : 'es'}`,
        system: 'danube',
        options: { jobs: sizes.fleetJobs, executors },
      }));
    case 'memory':
      return [
        {
          label: `${sizes.memoryJobs} × sleep ${sizes.memorySleepSeconds}`,
          system: 'danube',
          options: { jobs: sizes.memoryJobs, sleepSeconds: sizes.memorySleepSeconds },
        },
      ];
  }
}

const program = new Command()
  .name('npm run bench --')
  .description('Danube vs graphile-worker vs pg-boss on the same Postgres, in one run')
  .option('--quick', 'small sizes, one repetition: a smoke run')
  .option('--reps <n>', 'repetitions of each case', positiveInt)
  .option(
    '--scenarios <list>',
    `comma-separated, from: ${SCENARIOS.join(', ')}`,
    SCENARIOS.join(','),
  )
  .option(
    '--out <dir>',
    'folder for latest.json and latest.md',
    join(process.cwd(), 'bench', 'results'),
  )
  .showHelpAfterError();

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

async function main(): Promise<void> {
  const opts = program
    .parse()
    .opts<{ quick?: boolean; reps?: number; scenarios: string; out: string }>();
  const sizes: Sizes = {
    ...(opts.quick ? QUICK : FULL),
    ...(opts.reps ? { reps: opts.reps } : {}),
  };
  const scenarios = opts.scenarios.split(',').map((s) => s.trim());
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      program.error(`error: unknown scenario ${s}; pick from ${SCENARIOS.join(', ')}`);
  }
  const plan = (scenarios as (typeof SCENARIOS)[number][]).map((scenario) => ({
    scenario,
    cases: casesFor(scenario, sizes),
  }));

  const pg = await postgres();
  process.stdout.write(`Postgres: ${pg.description}\n`);
  const bars = new MultiBar(
    { format: ' {bar} {value}/{total} runs  {task}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  const bar = bars.create(
    plan.reduce((n, p) => n + p.cases.length * sizes.reps, 0),
    0,
    { task: '' },
  );
  const machine = machineFacts();
  let counter = 0;
  let outcome: Awaited<ReturnType<typeof runPlan<SystemName>>>;
  try {
    outcome = await runPlan(plan, sizes.reps, async (scenario, c, repetition) => {
      bar.update({ task: `${scenario}: ${c.label} (run ${repetition}/${sizes.reps})` });
      const database = `bench_${process.pid}_${counter++}`;
      try {
        return await withDatabase(pg.adminUrl, database, (url) =>
          runOne(c.system, scenario, url, c.options),
        );
      } finally {
        bar.increment();
      }
    });
  } finally {
    bars.stop();
    await pg.stop();
  }
  const { results, failures } = outcome;
  const facts = atEnd(machine);

  const markdown = render(results, failures, sizes, pg.description, facts);
  process.stdout.write(`\n${markdown}\n`);
  mkdirSync(opts.out, { recursive: true });
  const summary = results.map((r) => ({
    scenario: r.scenario,
    cases: r.cases.map((c) => ({
      label: c.label,
      system: c.system,
      ...summarise(r.scenario, c.runs),
    })),
  }));
  writeFileSync(
    join(opts.out, 'latest.json'),
    `${JSON.stringify({ at: new Date().toISOString(), postgres: pg.description, machine: facts, sizes, results: summary, failures }, null, 2)}\n`,
  );
  writeFileSync(join(opts.out, 'latest.md'), `${markdown}\n`);
  process.stdout.write(`Wrote ${join(opts.out, 'latest.json')} and latest.md\n`);
  if (failures.length > 0) {
    process.stderr.write(
      `bench: ${failures.length} run(s) failed: ${failures.map((f) => `${f.scenario} ${f.label} (run ${f.repetition})`).join(', ')}; see latest.md\n`,
    );
    process.exitCode = 1;
  }
}

/** The numbers a case is judged by, over its repetitions. */
function summarise(scenario: string, runs: RunResult[]): Record<string, unknown> {
  const of = (key: string) => spread(runs.map((r) => Number(r[key])));
  switch (scenario) {
    case 'latency': {
      const all = percentiles(runs.flatMap((r) => r.samplesMs as number[]));
      return {
        ...all,
        p99PerRun: spread(runs.map((r) => percentiles(r.samplesMs as number[]).p99)),
      };
    }
    case 'depth':
      return {
        claimP50Ms: of('claimP50Ms'),
        claimP99Ms: of('claimP99Ms'),
        jobsPerSecond: of('jobsPerSecond'),
        explain: runs[runs.length - 1]!.explain,
      };
    case 'memory':
      return { peakRssMb: of('peakRssMb'), secondsToStartAll: of('secondsToStartAll') };
    default:
      return { jobsPerSecond: of('jobsPerSecond'), rssMb: of('rssMb') };
  }
}

function render(
  results: ScenarioResult[],
  failures: CaseFailure[],
  sizes: Sizes,
  postgres: string,
  machine: MachineFacts,
): string {
  const n = (v: number) =>
    v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2);
  const cell = (s: Spread) => `${n(s.median)} (${n(s.min)}-${n(s.max)})`;
  const out = [
    '# Danube benchmark',
    '',
    `${postgres}; ${sizes.reps} repetition(s) per case; figures are median (min-max) over repetitions; ratios compare medians.`,
    '',
    describeMachine(machine),
    '',
  ];
  for (const { scenario, cases } of results) {
    const rows = cases.map((c) => ({ ...c, s: summarise(scenario, c.runs) }));
    const danube = rows.find((r) => r.system === 'danube')?.s;
    switch (scenario) {
      case 'drain':
      case 'enqueue': {
        out.push(
          `## ${scenario === 'drain' ? `Drain: ${sizes.drainJobs.toLocaleString('en-US')} queued no-op jobs` : `Bulk enqueue: ${sizes.enqueueJobs.toLocaleString('en-US')} jobs in batches of ${sizes.enqueueBatch}`} (jobs/s)`,
          '',
        );
        out.push(
          '| system | jobs/s | process RSS MB | Danube ÷ this |',
          '| --- | --- | --- | --- |',
        );
        for (const r of rows) {
          const tp = r.s.jobsPerSecond as Spread;
          const ratio =
            danube && !r.system.startsWith('danube')
              ? n((danube.jobsPerSecond as Spread).median / tp.median)
              : '';
          out.push(`| ${r.label} | ${cell(tp)} | ${n((r.s.rssMb as Spread).median)} | ${ratio} |`);
        }
        break;
      }
      case 'latency': {
        out.push(
          `## Pickup latency: ${sizes.latencyJobs} jobs enqueued ${sizes.latencyGapMs} ms apart onto an idle queue (ms, enqueue to start)`,
          '',
        );
        out.push(
          '| system | p50 | p95 | p99 | p99 per run | max | Danube p99 ÷ this p99 |',
          '| --- | --- | --- | --- | --- | --- | --- |',
        );
        for (const r of rows) {
          const s = r.s as unknown as {
            p50: number;
            p95: number;
            p99: number;
            max: number;
            p99PerRun: Spread;
          };
          const ratio =
            danube && r.system !== 'danube'
              ? n((danube as unknown as { p99: number }).p99 / s.p99)
              : '';
          out.push(
            `| ${r.label} | ${n(s.p50)} | ${n(s.p95)} | ${n(s.p99)} | ${n(s.p99PerRun.min)}-${n(s.p99PerRun.max)} | ${n(s.max)} | ${ratio} |`,
          );
        }
        break;
      }
      case 'depth': {
        out.push(
          `## Depth: claims and a ${sizes.depthJobs.toLocaleString('en-US')}-job drain with jobs already queued (Danube)`,
          '',
        );
        out.push(
          'Half of the queued jobs are due on another topic, half on this topic but due tomorrow.',
          '',
        );
        out.push(
          '| already queued | claim of 50, p50 ms | claim p99 ms | drain jobs/s |',
          '| --- | --- | --- | --- |',
        );
        for (const r of rows)
          out.push(
            `| ${r.label} | ${cell(r.s.claimP50Ms as Spread)} | ${cell(r.s.claimP99Ms as Spread)} | ${cell(r.s.jobsPerSecond as Spread)} |`,
          );
        const first = (rows[0]!.s.claimP50Ms as Spread).median;
        const last = (rows[rows.length - 1]!.s.claimP50Ms as Spread).median;
        out.push(
          '',
          `Claim p50 at ${rows[rows.length - 1]!.label} ÷ at ${rows[0]!.label}: ${n(last / first)}`,
          '',
        );
        out.push(
          `Plan of the claim at ${rows[rows.length - 1]!.label}:`,
          '',
          '```',
          String(rows[rows.length - 1]!.s.explain),
          '```',
        );
        break;
      }
      case 'fleet': {
        out.push(
          `## Fleet: executor processes draining ${sizes.fleetJobs.toLocaleString('en-US')} jobs together (Danube, ${cpus().length} CPUs)`,
          '',
        );
        out.push('| executors | jobs/s |', '| --- | --- |');
        for (const r of rows) out.push(`| ${r.label} | ${cell(r.s.jobsPerSecond as Spread)} |`);
        break;
      }
      case 'memory': {
        out.push('## Memory: one executor running process-runtime jobs at once (Danube)', '');
        out.push('| jobs | executor peak RSS MB | seconds until all ran |', '| --- | --- | --- |');
        for (const r of rows)
          out.push(
            `| ${r.label} | ${cell(r.s.peakRssMb as Spread)} | ${cell(r.s.secondsToStartAll as Spread)} |`,
          );
        break;
      }
    }
    out.push('');
  }
  if (failures.length > 0) {
    out.push(
      '## Failed runs',
      '',
      'A case with a failed run is left out of the tables above.',
      '',
      '| scenario | case | run | error |',
      '| --- | --- | --- | --- |',
    );
    for (const f of failures) {
      const error = f.error.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 400);
      out.push(`| ${f.scenario} | ${f.label} | ${f.repetition} | ${error} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

async function postgres(): Promise<{
  adminUrl: string;
  description: string;
  stop: () => Promise<void>;
}> {
  if (process.env.DATABASE_URL)
    return {
      adminUrl: process.env.DATABASE_URL,
      description: 'Postgres at DATABASE_URL',
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
    description: `Embedded PostgreSQL ${rows[0]!.server_version} with default (durable) settings`,
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
  // Every run starts from a clean checkpoint: none pays for the dirty pages of the run before.
  await admin.query('CHECKPOINT');
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
  scenario: string,
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
        reject(new Error(`${system} ${scenario} failed (exit ${code}):\n${stderr.slice(-3000)}`));
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
