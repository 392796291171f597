import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectPool, isLockConflict } from '@danube/db';
import { DanubeMetrics } from '@danube/observability';
import type { ArtifactStore } from '@danube/artifacts';
import type { Pool, PoolClient } from 'pg';
import type { Counter } from 'prom-client';
import { RetentionRepository, type DeletedJobs } from './retention.repository';
import { RETENTION_KINDS, retentionDeletedCounter, type RetentionKind } from './retention.metrics';

export const RETENTION_OPTIONS = Symbol('RETENTION_OPTIONS');
/** The artifact store whose files the sweep removes (the one the API stores uploads in). */
export const RETENTION_ARTIFACT_STORE = Symbol('RETENTION_ARTIFACT_STORE');

export interface RetentionOptions {
  /** Days finished jobs are kept where a tenant set no default of its own (RETENTION_DAYS). */
  defaultKeepDays: number;
  /** Jobs deleted per transaction. */
  batchSize?: number;
  /** Workflow rows deleted per transaction (their nodes then go `batchSize` at a time). */
  workflowBatchSize?: number;
  /** Events the log cap reads per transaction, and per sweep at most. */
  logCapEventsPerBatch?: number;
  logCapEventsPerSweep?: number;
  /** How long one sweep may delete for; what is left is the next sweep's. */
  maxSweepMs?: number;
}

const DEFAULTS = {
  batchSize: 5000,
  workflowBatchSize: 1000,
  logCapEventsPerBatch: 5000,
  logCapEventsPerSweep: 100_000,
  maxSweepMs: 4 * 60_000,
};

/** Files removed at once: enough to keep a disk busy, few enough not to run out of handles. */
const FILE_REMOVALS_AT_ONCE = 16;

export interface SweepReport {
  /** false: another sweep (another replica) was running; this one did nothing. */
  ran: boolean;
  /** false: the time budget ran out first; the next sweep goes on. */
  done: boolean;
  deleted: Record<RetentionKind, number>;
  /** Artifact files removed from the store (their rows are in deleted.artifacts). */
  files: number;
  /** Attempts whose output a log cap trimmed (the lines dropped are in deleted.logs). */
  trimmedAttempts: number;
  /** Transactions that deleted something. */
  batches: number;
  durationMs: number;
}

/**
 * The retention sweep: deletes what the tenants' policies no longer keep, a bounded batch
 * per short transaction, and caps the output stored per attempt. Called by the
 * retention_sweep chore (cron, or asked for through the API) and directly by whoever needs
 * a sweep now. One sweep runs at a time across replicas; a second returns at once.
 *
 * Order: artifact files left over by an interrupted sweep; finished workflows (their rows
 * and own events), then their nodes; finished jobs outside workflows; the log cap; then
 * old webhook deliveries.
 * Every job batch deletes its jobs' attempts, log lines, events and artifact rows with the
 * jobs, and removes the artifacts' files once it has committed.
 */
@Injectable()
export class RetentionSweepService {
  private readonly logger = new Logger('Retention');
  private readonly counter: Counter<'kind'> | null;
  private readonly settings: Required<RetentionOptions>;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(RETENTION_ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(RETENTION_OPTIONS) options: RetentionOptions,
    @Optional() @Inject(DanubeMetrics) metrics: DanubeMetrics | null = null,
  ) {
    this.settings = { ...DEFAULTS, ...options };
    this.counter = retentionDeletedCounter(metrics);
  }

  async sweep(): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = {
      ran: false,
      done: true,
      deleted: Object.fromEntries(RETENTION_KINDS.map((kind) => [kind, 0])) as Record<
        RetentionKind,
        number
      >,
      files: 0,
      trimmedAttempts: 0,
      batches: 0,
      durationMs: 0,
    };
    const sweep = new Sweep(
      await this.pool.connect(),
      this.settings,
      started + this.settings.maxSweepMs,
      report,
      (kind, count) => this.count(report, kind, count),
      (keys) => this.removeFiles(keys),
      this.logger,
    );
    try {
      await sweep.run();
    } finally {
      sweep.end();
      report.durationMs = Date.now() - started;
    }
    if (report.ran && report.batches > 0) {
      this.logger.log(
        `swept in ${report.durationMs} ms: ${RETENTION_KINDS.map((k) => `${report.deleted[k]} ${k}`).join(', ')}, ${report.files} files, ${report.trimmedAttempts} attempts' output capped${report.done ? '' : '; more is due, the next sweep goes on'}`,
      );
    }
    return report;
  }

  private count(report: SweepReport, kind: RetentionKind, count: number): void {
    if (count <= 0) return;
    report.deleted[kind] += count;
    this.counter?.inc({ kind }, count);
  }

  /** Removes files from the store; returns the keys that are gone (missing ones included). */
  private async removeFiles(keys: string[]): Promise<string[]> {
    const removed: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          await this.store.remove(key);
          removed.push(key);
        } catch (error) {
          // Left in retention_file_removals: the next sweep tries again.
          this.logger.warn(`artifact file ${key} not removed: ${String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FILE_REMOVALS_AT_ONCE, keys.length) }, worker));
    return removed;
  }
}

/** One sweep, on one connection: the one that holds the sweep's lock. */
class Sweep {
  private readonly repo: RetentionRepository;
  private broken: Error | undefined;

  constructor(
    private readonly client: PoolClient,
    private readonly settings: Required<RetentionOptions>,
    private readonly deadline: number,
    private readonly report: SweepReport,
    private readonly count: (kind: RetentionKind, count: number) => void,
    private readonly removeFiles: (keys: string[]) => Promise<string[]>,
    private readonly logger: Logger,
  ) {
    this.repo = RetentionRepository.on(client);
  }

  async run(): Promise<void> {
    try {
      if (!(await this.repo.trySweepLock())) return;
      this.report.ran = true;
      try {
        await this.leftoverFiles();
        await this.phase('workflows', () => this.workflows());
        await this.phase('workflow nodes', () => this.leftoverNodes());
        await this.phase('jobs', () => this.jobs());
        await this.phase('log cap', () => this.capLogs());
        await this.phase('webhook deliveries', () => this.deliveries());
      } finally {
        await this.repo.releaseSweepLock();
      }
    } catch (error) {
      // A connection that failed mid-sweep is not handed back to the pool (nor its lock).
      this.broken = error as Error;
      throw error;
    }
  }

  end(): void {
    this.client.release(this.broken);
  }

  private get late(): boolean {
    return Date.now() >= this.deadline;
  }

  /**
   * Runs one part of the sweep. A batch that met a lock held past lock_timeout (someone's
   * open transaction on a row it needed) ends that part for this sweep; the next one retries.
   */
  private async phase(name: string, run: () => Promise<void>): Promise<void> {
    if (this.late) {
      this.report.done = false;
      return;
    }
    try {
      await run();
    } catch (error) {
      if (!isLockConflict(error)) throw error;
      this.report.done = false;
      this.logger.warn(
        `retention ${name}: a row was locked too long (${String(error)}); the next sweep retries`,
      );
    }
  }

  /** One transaction, with the sweep's lock and statement timeouts. */
  private async batch<T>(work: (repo: RetentionRepository) => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      await this.repo.setBatchLimits();
      const result = await work(this.repo);
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private counted(deleted: DeletedJobs): void {
    this.report.batches += 1;
    for (const kind of ['jobs', 'executions', 'logs', 'events', 'artifacts'] as const) {
      this.count(kind, deleted[kind]);
    }
  }

  private async files(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const removed = await this.removeFiles(keys);
    await this.repo.forgetFileRemovals(removed);
    this.report.files += removed.length;
  }

  private async leftoverFiles(): Promise<void> {
    for (;;) {
      const keys = await this.repo.fileRemovals(this.settings.batchSize);
      const before = this.report.files;
      await this.files(keys);
      // Stops when none are left, or when none of these could be removed (a store that
      // refuses: warned about, and tried again next sweep).
      if (keys.length < this.settings.batchSize || this.report.files === before) return;
    }
  }

  private async workflows(): Promise<void> {
    const limit = this.settings.workflowBatchSize;
    for (;;) {
      const found = await this.batch(async (repo) => {
        const ids = await repo.oldWorkflows(this.settings.defaultKeepDays, limit);
        if (ids.length === 0) return 0;
        const deleted = await repo.deleteWorkflows(ids);
        this.report.batches += 1;
        this.count('workflows', deleted.workflows);
        this.count('events', deleted.events);
        return ids.length;
      });
      if (found < limit) return;
      if (this.late) return void (this.report.done = false);
    }
  }

  private async leftoverNodes(): Promise<void> {
    const limit = this.settings.batchSize;
    for (;;) {
      const deleted = await this.batch(async (repo) => {
        const ids = await repo.leftoverNodes(limit);
        if (ids.length > 0) await repo.deleteEdges(ids);
        const jobs = ids.length > 0 ? await repo.deleteJobs(ids) : null;
        await repo.forgetEmptiedWorkflows();
        return jobs;
      });
      if (!deleted) return;
      this.counted(deleted);
      await this.files(deleted.files);
      if (deleted.jobs < limit) return;
      if (this.late) return void (this.report.done = false);
    }
  }

  private async jobs(): Promise<void> {
    const limit = this.settings.batchSize;
    for (;;) {
      const deleted = await this.batch(async (repo) => {
        const ids = await repo.oldJobs(this.settings.defaultKeepDays, limit);
        return ids.length > 0 ? repo.deleteJobs(ids) : null;
      });
      if (!deleted) return;
      this.counted(deleted);
      await this.files(deleted.files);
      if (deleted.jobs < limit) return;
      if (this.late) return void (this.report.done = false);
    }
  }

  /** Old finished webhook deliveries, a batch per transaction. */
  private async deliveries(): Promise<void> {
    const limit = this.settings.batchSize;
    for (;;) {
      const deleted = await this.batch((repo) =>
        repo.deleteOldDeliveries(this.settings.defaultKeepDays, limit),
      );
      if (deleted === 0) return;
      this.report.batches += 1;
      this.count('deliveries', deleted);
      if (deleted < limit) return;
      if (this.late) return void (this.report.done = false);
    }
  }

  /**
   * The jobs that ended since the cursor, a page of events per transaction, up to
   * logCapEventsPerSweep events per sweep: each job's attempts over its cap are trimmed,
   * and the cursor moves past the page in the same transaction.
   */
  private async capLogs(): Promise<void> {
    if (!(await this.repo.anyLogCap())) return;
    let read = 0;
    while (read < this.settings.logCapEventsPerSweep) {
      if (this.late) return void (this.report.done = false);
      const page = await this.batch(async (repo) => {
        const ended = await repo.endedJobsToCap(
          await repo.logCursor(),
          this.settings.logCapEventsPerBatch,
        );
        if (!ended.position) return null;
        const trims = await repo.trimLogs(ended.jobs);
        await repo.noteTrims(trims);
        await repo.moveLogCursor(ended.position);
        return { read: ended.read, trims };
      });
      if (!page) return;
      read += page.read;
      if (page.trims.length > 0) {
        this.report.batches += 1;
        this.report.trimmedAttempts += page.trims.length;
        this.count(
          'logs',
          page.trims.reduce((sum, t) => sum + t.lines, 0),
        );
      }
      if (page.read < this.settings.logCapEventsPerBatch) return;
    }
  }
}
