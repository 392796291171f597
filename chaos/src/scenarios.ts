import { join } from 'node:path';
import { Client } from 'pg';
import { checkScenario, type ExecutorFault, type ScenarioResult } from './checks';
import { Cluster, LEASE_SECONDS } from './cluster';
import type { PostgresServer } from './postgres-server';
import { sleep, Workload, type WorkloadOptions } from './workload';

export type Size = 'ci' | 'full';

export interface FaultContext {
  cluster: Cluster;
  workload: Workload;
  pg: PostgresServer;
  faults: ExecutorFault[];
  notes: string[];
  size: Size;
  /** Problems found by a scenario's own checks; each fails the scenario. */
  problems: string[];
}

export interface Scenario {
  id: string;
  title: string;
  workload(size: Size): Omit<WorkloadOptions, 'topic'>;
  /** Runs while the jobs are being submitted and run. */
  faults(context: FaultContext): Promise<void>;
}

const now = () => Date.now() / 1000;

async function untilProgress(workload: Workload, share: number): Promise<void> {
  while (workload.progress < share) await sleep(100);
}

/** The live executor running the most jobs now (the one whose loss hurts most). */
async function busiestExecutor(cluster: Cluster, atLeast = 1) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) {
      const { rows: statuses } = await cluster.pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM danube.jobs GROUP BY status ORDER BY status`,
      );
      throw new Error(
        `no executor was running ${atLeast} or more jobs within 60 s; jobs by status: ${JSON.stringify(statuses)}; live executors: ${cluster
          .live()
          .map((e) => e.id)
          .join(', ')}; HTTP: ${JSON.stringify(cluster.http)}`,
      );
    }
    const { rows } = await cluster.pool
      .query<{ owner: string; n: number }>(
        `SELECT lease_owner AS owner, count(*)::int AS n FROM danube.jobs
         WHERE status = 'running' GROUP BY lease_owner ORDER BY n DESC`,
      )
      .catch(() => ({ rows: [] as { owner: string; n: number }[] }));
    const live = new Map(cluster.live().map((e) => [e.id, e]));
    const busiest = rows.find((r) => live.has(r.owner) && r.n >= atLeast);
    if (busiest) return live.get(busiest.owner)!;
    await sleep(100);
  }
}

/** A live executor that holds a job it claimed and has not yet marked running. */
async function justClaimed(cluster: Cluster) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const live = cluster.live().map((e) => e.id);
    const { rows } = await cluster.pool
      .query<{ owner: string }>(
        `SELECT lease_owner AS owner FROM danube.jobs
         WHERE status = 'claimed' AND lease_owner = ANY($1::text[]) LIMIT 1`,
        [live],
      )
      .catch(() => ({ rows: [] as { owner: string }[] }));
    const victim = cluster.live().find((e) => e.id === rows[0]?.owner);
    if (victim) return victim;
    await sleep(2);
  }
  return busiestExecutor(cluster);
}

/** Ends every connection of the scenario's database but the caller's own. */
async function terminateBackends(cluster: Cluster): Promise<number> {
  const admin = new Client({ connectionString: cluster.pg.url });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [cluster.database],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

const choose = (size: Size, ci: number, full: number) => (size === 'ci' ? ci : full);

/** Half-second jobs in small batches, submitted steadily: a fault always finds some in flight. */
const steadyShortJobs = (size: Size) => ({
  jobs: choose(size, 600, 2000),
  ticks: 5,
  batch: 20,
  paceMs: choose(size, 400, 500),
});

export const SCENARIOS: Scenario[] = [
  {
    id: 'a',
    title: 'clean run',
    workload: (size) => ({ jobs: choose(size, 1000, 5000), ticks: 3, batch: 500 }),
    faults: async () => undefined,
  },
  {
    id: 'b',
    title: 'SIGKILL loop',
    workload: (size) => ({
      jobs: choose(size, 600, 2000),
      ticks: 5,
      paceMs: choose(size, 1500, 1400),
    }),
    async faults({ cluster, faults, notes, size }) {
      const kills = choose(size, 8, 20);
      for (let k = 0; k < kills; k++) {
        await sleep(choose(size, 2500, 3000));
        // Every other kill aims at the worst moment: just after a claim, while the attempt
        // may be starting and its claimed -> running write is still on its way.
        const victim = k % 2 === 0 ? await busiestExecutor(cluster) : await justClaimed(cluster);
        faults.push({ executor: victim.id, at: now() });
        await cluster.kill(victim);
        // The harness, not a supervisor, brings a new executor: the fleet stays at three.
        await cluster.addExecutor();
      }
      notes.push(`${kills} executors killed with SIGKILL, each replaced by a new one`);
    },
  },
  {
    id: 'c',
    title: 'Postgres restart, fast and immediate',
    workload: steadyShortJobs,
    async faults({ pg, workload, notes }) {
      for (const [share, mode] of [
        [0.3, 'fast'],
        [0.6, 'immediate'],
      ] as const) {
        await untilProgress(workload, share);
        const started = Date.now();
        await pg.restart(mode, 2000);
        notes.push(`Postgres restarted (${mode}), down for ${Date.now() - started} ms`);
      }
    },
  },
  {
    id: 'd',
    title: 'pg_terminate_backend on every connection, twice',
    workload: steadyShortJobs,
    async faults({ cluster, workload, notes }) {
      for (const share of [0.3, 0.6]) {
        await untilProgress(workload, share);
        notes.push(`terminated ${await terminateBackends(cluster)} backends`);
      }
    },
  },
  {
    id: 'e',
    title: 'SIGSTOP an executor past its lease',
    // Waves of 20 jobs of 20 s each, fewer than the fleet's 30 slots: when one executor is
    // paused, the others have room to take its jobs at once, while those jobs would still
    // be running if nothing killed them.
    workload: (size) => ({
      jobs: choose(size, 1, 3) * 20,
      ticks: 200,
      batch: 20,
      paceMs: 30_000,
    }),
    async faults({ cluster, workload, faults, notes, problems, size }) {
      const waves = choose(size, 1, 3);
      for (let wave = 1; wave <= waves; wave++) {
        // A pause 3 s into each wave, while its jobs run.
        await untilProgress(workload, wave / waves);
        await sleep(3000);
        const victim = await busiestExecutor(cluster, 3);
        const stoppedAt = now();
        victim.signal('SIGSTOP');
        faults.push({ executor: victim.id, at: stoppedAt });
        await sleep((LEASE_SECONDS + 6) * 1000);
        const { rows } = await cluster.pool.query<{ max: string | null }>(
          'SELECT max(id)::text AS max FROM danube.job_logs',
        );
        victim.signal('SIGCONT');
        notes.push(`${victim.id} paused for ${(now() - stoppedAt).toFixed(1)} s`);
        // Give it time to wake and flush what it had buffered, then look for stale writes:
        // log lines of attempts the reaper took from it, written after it woke.
        await sleep(3000);
        const stale = await cluster.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM danube.job_logs l
           JOIN danube.executions e ON e.job_id = l.job_id AND e.attempt = l.attempt
           WHERE l.id > $1 AND e.executor_id = $2 AND e.message LIKE '%stopped renewing its lease%'`,
          [rows[0]?.max ?? '0', victim.id],
        );
        if (stale.rows[0]!.n > 0)
          problems.push(
            `${victim.id} wrote ${stale.rows[0]!.n} log lines into attempts it had lost`,
          );
      }
    },
  },
  {
    id: 'f',
    title: 'a session holds a job row locked for 30 s',
    // A quarter of the jobs run 10 s, longer than a lease, the rest half a second.
    workload: (size) => ({
      jobs: choose(size, 400, 1500),
      ticks: (n) => (n % 4 === 0 ? 100 : 5),
      paceMs: 1000,
    }),
    async faults({ cluster, workload, notes, size }) {
      await untilProgress(workload, 0.2);
      const holder = new Client({ connectionString: cluster.pg.urlOf(cluster.database) });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        const running = await holder.query<{ id: string }>(
          `SELECT id FROM danube.jobs WHERE status = 'running' ORDER BY id LIMIT 1 FOR UPDATE`,
        );
        const queued = await holder.query<{ id: string }>(
          `SELECT id FROM danube.jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE`,
        );
        const seconds = choose(size, 15, 30);
        notes.push(
          `held jobs ${[...running.rows, ...queued.rows].map((r) => r.id).join(' and ')} (running, queued) locked for ${seconds} s, idle in transaction`,
        );
        await sleep(seconds * 1000);
        await holder.query('ROLLBACK');
      } finally {
        await holder.end();
      }
    },
  },
];

/** Runs one scenario on a fresh database and checks it. */
export async function runScenario(
  pg: PostgresServer,
  dir: string,
  scenario: Scenario,
  size: Size,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const ledger = join(dir, `${scenario.id}.ledger`);
  const started = Date.now();
  const cluster = await Cluster.start(pg, `chaos_${scenario.id}`, { executors: 3 });
  const notes: string[] = [];
  const faults: ExecutorFault[] = [];
  const problems: string[] = [];
  const options = scenario.workload(size);
  const workload = new Workload(cluster, ledger, { topic: `chaos-${scenario.id}`, ...options });
  try {
    log(
      `(${scenario.id}) ${scenario.title}: ${options.durationMs ? `jobs for ${options.durationMs / 60_000} min` : `${options.jobs} jobs`}`,
    );
    const submitting = workload.submitAll();
    try {
      await scenario.faults({ cluster, workload, pg, faults, notes, size, problems });
    } finally {
      workload.faultsEnded();
    }
    await submitting;
    await workload.waitForEnd(choose(size, 5, 10) * 60_000);
    const result = await checkScenario({
      scenario: scenario.id,
      title: scenario.title,
      cluster,
      ledger,
      acknowledged: workload.acknowledged,
      faults,
      seconds: (Date.now() - started) / 1000,
      notes: [...notes, ...problems],
    });
    if (problems.length > 0) result.pass = false;
    return result;
  } finally {
    await cluster.stop();
  }
}

/**
 * (h) The soak: jobs of varied length submitted steadily for `minutes`, and every 45-90 s
 * one of the faults above at random. Not run in CI.
 */
export function soakScenario(minutes: number): Scenario {
  const durationMs = minutes * 60_000;
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
  return {
    id: 'h',
    title: `soak, ${minutes} min of mixed faults`,
    workload: () => ({
      jobs: 1_000_000_000,
      durationMs,
      batch: 20,
      paceMs: 1000,
      ticks: (n) => 2 + ((n * 7919) % 19),
    }),
    async faults(context) {
      const { cluster, pg, faults, notes } = context;
      const end = Date.now() + durationMs;
      const done: Record<string, number> = {};
      const kinds: Record<string, () => Promise<void>> = {
        'SIGKILL an executor': async () => {
          const victim = await busiestExecutor(cluster);
          faults.push({ executor: victim.id, at: now() });
          await cluster.kill(victim);
          await cluster.addExecutor();
        },
        'restart Postgres (fast)': () => pg.restart('fast'),
        'restart Postgres (immediate)': () => pg.restart('immediate'),
        'terminate every backend': async () => void (await terminateBackends(cluster)),
        'SIGSTOP an executor past its lease': async () => {
          const victim = await busiestExecutor(cluster);
          faults.push({ executor: victim.id, at: now() });
          victim.signal('SIGSTOP');
          await sleep((LEASE_SECONDS + 6) * 1000);
          victim.signal('SIGCONT');
        },
      };
      while (Date.now() + 90_000 < end) {
        await sleep(45_000 + Math.random() * 45_000);
        const kind = pick(Object.keys(kinds));
        await kinds[kind]!();
        done[kind] = (done[kind] ?? 0) + 1;
      }
      notes.push(
        `faults: ${Object.entries(done)
          .map(([kind, n]) => `${kind} x${n}`)
          .join(', ')}`,
      );
    },
  };
}
