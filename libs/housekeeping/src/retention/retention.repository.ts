import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { RetentionPolicy, RetentionRule, TopicRetentionRule } from './retention-policy';
import * as sql from './retention.sql';

/** What one batch of DELETE_JOBS removed. */
export interface DeletedJobs {
  jobs: number;
  executions: number;
  logs: number;
  events: number;
  artifacts: number;
  /** Storage keys of the artifacts' files, to remove once the batch has committed. */
  files: string[];
}

/** One attempt whose output TRIM_LOGS cut. */
export interface TrimmedAttempt {
  jobId: string;
  attempt: number;
  /** The id and time of the first line dropped: where the note goes. */
  firstId: string;
  firstAt: Date;
  lines: number;
  bytes: string;
  cap: string;
}

/** A page of ended jobs for the log cap, and where it ended. */
export interface EndedJobsPage {
  /** The last event read, or null when there was none to read. */
  position: { tx: string; seq: string } | null;
  read: number;
  jobs: { id: string; cap: string }[];
}

interface PolicyRow {
  topic: string | null;
  keep_days: number;
  keep_failed_days: number | null;
  max_log_bytes_per_attempt: string | null;
}

/** danube.retention_* and the sweep's deletes: the statements of retention.sql.ts. */
@Injectable()
export class RetentionRepository extends Repository {
  async policy(tenant: string): Promise<RetentionPolicy> {
    const { rows } = await this.db.query<PolicyRow>(sql.SELECT_POLICIES, [tenant]);
    const rule = (row: PolicyRow): RetentionRule => ({
      keepDays: row.keep_days,
      keepFailedDays: row.keep_failed_days,
      maxLogBytesPerAttempt:
        row.max_log_bytes_per_attempt === null ? null : Number(row.max_log_bytes_per_attempt),
    });
    const defaultRow = rows.find((row) => row.topic === null);
    return {
      default: defaultRow ? rule(defaultRow) : null,
      topics: rows
        .filter((row) => row.topic !== null)
        .map((row) => ({ topic: row.topic!, ...rule(row) })),
    };
  }

  /** Replaces a tenant's rules; call in a transaction. */
  async replacePolicy(tenant: string, policy: RetentionPolicy): Promise<void> {
    await this.db.query(sql.LOCK_TENANT, [tenant]);
    await this.db.query(sql.DELETE_POLICIES, [tenant]);
    const rules: (RetentionRule & { topic: string | null })[] = [
      ...(policy.default ? [{ ...policy.default, topic: null }] : []),
      ...policy.topics.map((rule: TopicRetentionRule) => rule),
    ];
    if (rules.length === 0) return;
    await this.db.query(sql.INSERT_POLICIES, [
      tenant,
      rules.map((r) => r.topic),
      rules.map((r) => r.keepDays),
      rules.map((r) => r.keepFailedDays),
      rules.map((r) => r.maxLogBytesPerAttempt),
    ]);
  }

  /** Whether this session now holds the sweep's lock. */
  async trySweepLock(): Promise<boolean> {
    const { rows } = await this.db.query<{ locked: boolean }>(sql.TRY_SWEEP_LOCK);
    return rows[0]?.locked === true;
  }

  async releaseSweepLock(): Promise<void> {
    await this.db.query(sql.RELEASE_SWEEP_LOCK);
  }

  async setBatchLimits(): Promise<void> {
    await this.db.query(sql.SET_BATCH_LIMITS);
  }

  async oldJobs(defaultKeepDays: number, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(sql.SELECT_OLD_JOBS, [
      defaultKeepDays,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  async oldWorkflows(defaultKeepDays: number, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(sql.SELECT_OLD_WORKFLOWS, [
      defaultKeepDays,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  /** Deletes up to `limit` old finished webhook deliveries; returns how many. */
  async deleteOldDeliveries(defaultKeepDays: number, limit: number): Promise<number> {
    const { rowCount } = await this.db.query(sql.DELETE_OLD_DELIVERIES, [defaultKeepDays, limit]);
    return rowCount ?? 0;
  }

  async leftoverNodes(limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(sql.SELECT_LEFTOVER_NODES, [limit]);
    return rows.map((r) => r.id);
  }

  async deleteJobs(ids: string[]): Promise<DeletedJobs> {
    const { rows } = await this.db.query<DeletedJobs>(sql.DELETE_JOBS, [ids]);
    return rows[0]!;
  }

  async deleteEdges(nodeIds: string[]): Promise<number> {
    const { rows } = await this.db.query<{ edges: number }>(sql.DELETE_EDGES, [nodeIds]);
    return rows[0]!.edges;
  }

  async deleteWorkflows(ids: string[]): Promise<{ workflows: number; events: number }> {
    const { rows } = await this.db.query<{ workflows: number; events: number }>(
      sql.DELETE_WORKFLOWS,
      [ids],
    );
    return rows[0]!;
  }

  async forgetEmptiedWorkflows(): Promise<void> {
    await this.db.query(sql.FORGET_EMPTIED_WORKFLOWS);
  }

  async fileRemovals(limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ storage_key: string }>(sql.SELECT_FILE_REMOVALS, [
      limit,
    ]);
    return rows.map((r) => r.storage_key);
  }

  async forgetFileRemovals(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.db.query(sql.FORGET_FILE_REMOVALS, [keys]);
  }

  async anyLogCap(): Promise<boolean> {
    const { rows } = await this.db.query<{ capped: boolean }>(sql.ANY_LOG_CAP);
    return rows[0]?.capped === true;
  }

  async logCursor(): Promise<{ tx: string; seq: string }> {
    const { rows } = await this.db.query<{ tx: string; seq: string }>(sql.SELECT_LOG_CURSOR);
    return rows[0]!;
  }

  async moveLogCursor(position: { tx: string; seq: string }): Promise<void> {
    await this.db.query(sql.MOVE_LOG_CURSOR, [position.tx, position.seq]);
  }

  async endedJobsToCap(after: { tx: string; seq: string }, limit: number): Promise<EndedJobsPage> {
    const { rows } = await this.db.query<{
      tx: string | null;
      seq: string | null;
      read: number;
      job_ids: string[];
      caps: string[];
    }>(sql.SELECT_ENDED_JOBS_TO_CAP, [after.tx, after.seq, limit]);
    const row = rows[0]!;
    return {
      position: row.tx === null || row.seq === null ? null : { tx: row.tx, seq: row.seq },
      read: row.read,
      jobs: row.job_ids.map((id, i) => ({ id, cap: row.caps[i]! })),
    };
  }

  async trimLogs(jobs: { id: string; cap: string }[]): Promise<TrimmedAttempt[]> {
    if (jobs.length === 0) return [];
    const { rows } = await this.db.query<{
      job_id: string;
      attempt: number;
      first_id: string;
      first_at: Date;
      lines: number;
      bytes: string;
      cap: string;
    }>(sql.TRIM_LOGS, [jobs.map((j) => j.id), jobs.map((j) => j.cap)]);
    return rows.map((r) => ({
      jobId: r.job_id,
      attempt: r.attempt,
      firstId: r.first_id,
      firstAt: r.first_at,
      lines: r.lines,
      bytes: r.bytes,
      cap: r.cap,
    }));
  }

  async noteTrims(trims: TrimmedAttempt[]): Promise<void> {
    if (trims.length === 0) return;
    await this.db.query(sql.TRIM_NOTES, [
      trims.map((t) => t.firstId),
      trims.map((t) => t.jobId),
      trims.map((t) => t.attempt),
      trims.map((t) => t.firstAt),
      trims.map((t) => t.lines),
      trims.map((t) => t.bytes),
      trims.map((t) => t.cap),
    ]);
  }

  async addSweepJob(task: string, maxAttempts: number): Promise<void> {
    await this.db.query(sql.ADD_SWEEP_JOB, [task, maxAttempts]);
  }
}
