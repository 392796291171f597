import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';

/**
 * Jobs as Danube leaves them, made in bulk with generate_series: finished (or not) at a
 * given age, each with an execution row, log lines, an artifact row and its file, and the
 * events the jobs' insert trigger writes.
 */
export interface JobSeed {
  tenant?: string;
  topic: string;
  count: number;
  /** Cycled through in id order. */
  statuses: string[];
  /** Days ago the jobs ended; null: not ended (created that long ago instead: 60 days). */
  finishedDaysAgo: number | null;
  logLines?: number;
  /** Bytes per log line. */
  lineBytes?: number;
  artifacts?: boolean;
  workflowId?: string;
  /** Node names are `${nodePrefix}${n}`. */
  nodePrefix?: string;
  parentJobId?: string;
}

const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'];

export async function seedJobs(pool: Pool, seed: JobSeed): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO danube.jobs (tenant, topic, task_class, status, attempts, max_attempts,
       timeout_seconds, spec, created_at, started_at, finished_at, workflow_id, node_name,
       parent_job_id, lease_owner, lease_token, lease_expires_at)
     SELECT $1, $2, 'cpu_short', s.status, 1, 3, 60, '{"command": ["true"]}',
            now() - interval '61 days', now() - interval '61 days',
            CASE WHEN s.status = ANY($6::danube.job_status[])
                 THEN now() - make_interval(days => $4::integer) - g * interval '1 millisecond' END,
            $5::bigint, CASE WHEN $5::bigint IS NOT NULL THEN $7 || g END, $8::bigint,
            CASE WHEN s.status IN ('claimed', 'running') THEN 'seed-executor' END,
            CASE WHEN s.status IN ('claimed', 'running') THEN gen_random_uuid() END,
            CASE WHEN s.status IN ('claimed', 'running') THEN now() + interval '1 hour' END
     FROM generate_series(1, $3::integer) g
     CROSS JOIN LATERAL (SELECT ($9::danube.job_status[])[1 + (g - 1) % cardinality($9)] AS status) s
     ORDER BY g
     RETURNING id`,
    [
      seed.tenant ?? 'default',
      seed.topic,
      seed.count,
      seed.finishedDaysAgo ?? 0,
      seed.workflowId ?? null,
      TERMINAL,
      seed.nodePrefix ?? 'n',
      seed.parentJobId ?? null,
      seed.statuses,
    ],
  );
  const ids = rows.map((r) => r.id);
  await pool.query(
    `INSERT INTO danube.executions (job_id, attempt, executor_id, runtime, outcome, finished_at)
     SELECT j.id, 1, 'seed-executor', 'process', j.status, coalesce(j.finished_at, now())
     FROM danube.jobs j
     WHERE j.id = ANY($1::bigint[]) AND j.status IN ('succeeded', 'failed', 'timed_out', 'cancelled')`,
    [ids],
  );
  if (seed.logLines) {
    await pool.query(
      `INSERT INTO danube.job_logs (job_id, attempt, stream, line, logged_at)
       SELECT j.id, 1, CASE WHEN g % 3 = 0 THEN 'stderr' ELSE 'stdout' END,
              rpad('line ' || g, $3::integer, '.'), now() - interval '61 days'
       FROM unnest($1::bigint[]) AS j(id) CROSS JOIN generate_series(1, $2::integer) g
       ORDER BY j.id, g`,
      [ids, seed.logLines, seed.lineBytes ?? 20],
    );
  }
  if (seed.artifacts) {
    await pool.query(
      `INSERT INTO danube.artifacts (job_id, attempt, path, content_type, size, sha256, storage_key)
       SELECT j.id, 1, 'out.txt', 'text/plain', 2, repeat('0', 64), md5('artifact-' || j.id)
       FROM unnest($1::bigint[]) AS j(id)`,
      [ids],
    );
  }
  return ids;
}

export async function seedWorkflow(
  pool: Pool,
  options: {
    tenant?: string;
    status: 'running' | 'succeeded' | 'failed' | 'cancelled';
    finishedDaysAgo: number | null;
    unfinishedNodes: number;
  },
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO danube.workflows (tenant, name, status, node_count, unfinished_nodes, created_at, finished_at)
     VALUES ($1, 'seeded', $2, 0, $3, now() - interval '61 days',
             CASE WHEN $4::integer IS NOT NULL THEN now() - make_interval(days => $4::integer) END)
     RETURNING id`,
    [options.tenant ?? 'default', options.status, options.unfinishedNodes, options.finishedDaysAgo],
  );
  return rows[0]!.id;
}

/** Edges along `nodes` in order (a chain), as workflows store them. */
export async function seedChain(pool: Pool, workflowId: string, nodes: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO danube.workflow_edges (workflow_id, parent_id, child_id)
     SELECT $1, p, c FROM unnest($2::bigint[], $3::bigint[]) AS e(p, c)`,
    [workflowId, nodes.slice(0, -1), nodes.slice(1)],
  );
}

/** Writes the artifact files of jobs `ids` into the filesystem store at `dir`. */
export async function writeArtifactFiles(
  pool: Pool,
  dir: string,
  ids: string[],
): Promise<string[]> {
  const keys = await storageKeys(pool, ids);
  const folders = new Set(keys.map((k) => k.slice(0, 2)));
  await Promise.all([...folders].map((f) => mkdir(join(dir, f), { recursive: true })));
  for (let i = 0; i < keys.length; i += 200) {
    await Promise.all(
      keys.slice(i, i + 200).map((k) => writeFile(join(dir, k.slice(0, 2), k), 'ok')),
    );
  }
  return keys;
}

export async function storageKeys(pool: Pool, ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ storage_key: string }>(
    'SELECT storage_key FROM danube.artifacts WHERE job_id = ANY($1::bigint[])',
    [ids],
  );
  return rows.map((r) => r.storage_key);
}

export function filesPresent(dir: string, keys: string[]): number {
  return keys.filter((k) => existsSync(join(dir, k.slice(0, 2), k))).length;
}

export interface RowCounts {
  jobs: number;
  executions: number;
  logs: number;
  events: number;
  artifacts: number;
}

/** Rows of jobs `ids` in every table that records them. */
export async function rowsOf(pool: Pool, ids: string[]): Promise<RowCounts> {
  const { rows } = await pool.query<RowCounts>(
    `SELECT (SELECT count(*) FROM danube.jobs WHERE id = ANY($1::bigint[]))::integer AS jobs,
            (SELECT count(*) FROM danube.executions WHERE job_id = ANY($1::bigint[]))::integer AS executions,
            (SELECT count(*) FROM danube.job_logs WHERE job_id = ANY($1::bigint[]))::integer AS logs,
            (SELECT count(*) FROM danube.events WHERE job_id = ANY($1::bigint[]))::integer AS events,
            (SELECT count(*) FROM danube.artifacts WHERE job_id = ANY($1::bigint[]))::integer AS artifacts`,
    [ids],
  );
  return rows[0]!;
}

export const NOTHING: RowCounts = { jobs: 0, executions: 0, logs: 0, events: 0, artifacts: 0 };
