import { Injectable } from '@nestjs/common';
import { NotFoundError, type JobStatus } from '@danube/core';
import { Repository } from '@danube/db';
import { WHY_FACTS } from './why.sql';

/** One thing holding a job back, with a sentence for people. */
export interface WhyReason {
  code:
    | 'waiting_on_parents'
    | 'scheduled'
    | 'retry_backoff'
    | 'tenant_quota_full'
    | 'class_quota_full'
    | 'no_executor'
    | 'executors_full'
    | 'pod_pending'
    | 'due';
  message: string;
  details?: Record<string, unknown>;
}

export interface WhyAnswer {
  jobId: string;
  status: JobStatus;
  reasons: WhyReason[];
}

interface Facts {
  id: string;
  status: JobStatus;
  topic: string;
  tenant: string;
  task_class: string;
  run_at: Date;
  attempts: number;
  waiting_reason: string | null;
  later: boolean;
  max_running: number | null;
  class_cap: number | null;
  tenant_running: number;
  class_running: number;
  parents: { id: string; name: string; status: JobStatus }[];
  executors: number;
  free_slots: number;
  /** Of those executors, the ones with as many pods waiting for a node as they may have. */
  waiting_full: number;
}

/** The statement of why.sql.ts. */
@Injectable()
export class WhyRepository extends Repository {
  async facts(tenant: string, id: string): Promise<Facts | null> {
    const { rows } = await this.db.query<Facts>(WHY_FACTS, [id, tenant]);
    return rows[0] ?? null;
  }
}

/**
 * GET /v1/jobs/:id/why: why a blocked or queued job is not running yet, or why a running
 * one's code has not started (its pod waits for a node). Every reason that holds is listed
 * (a job can wait for its run_at and for a full quota at once); a job whose code runs, or
 * that has ended, has none.
 */
@Injectable()
export class JobWhyService {
  constructor(private readonly why: WhyRepository) {}

  async explain(tenant: string, id: string): Promise<WhyAnswer> {
    const facts = await this.why.facts(tenant, id);
    if (!facts) throw new NotFoundError('job', id);
    const reasons =
      facts.status === 'blocked' || facts.status === 'queued'
        ? reasonsFor(facts)
        : facts.status === 'running' && facts.waiting_reason
          ? [{ code: 'pod_pending' as const, message: facts.waiting_reason }]
          : [];
    return { jobId: facts.id, status: facts.status, reasons };
  }
}

function reasonsFor(f: Facts): WhyReason[] {
  const reasons: WhyReason[] = [];
  if (f.status === 'blocked') {
    const waiting = f.parents.filter((p) => p.status !== 'succeeded');
    reasons.push({
      code: 'waiting_on_parents',
      message: `waits for ${waiting.length} of its ${f.parents.length} parents to end: ${waiting
        .map((p) => `${p.name} (job ${p.id}) is ${p.status}`)
        .join(', ')}`,
      details: { parents: waiting },
    });
  }
  if (f.later) {
    reasons.push(
      f.attempts > 0
        ? {
            code: 'retry_backoff',
            message: `attempt ${f.attempts} failed; attempt ${f.attempts + 1} waits for its backoff until ${f.run_at.toISOString()}`,
            details: { runAt: f.run_at },
          }
        : {
            code: 'scheduled',
            message: `scheduled to run at ${f.run_at.toISOString()} (runAt)`,
            details: { runAt: f.run_at },
          },
    );
  }
  if (f.max_running !== null && f.tenant_running >= f.max_running) {
    reasons.push({
      code: 'tenant_quota_full',
      message: `tenant ${f.tenant} is running ${f.tenant_running} of its ${f.max_running} jobs at once (quota maxRunning); it starts when one of them ends`,
      details: { running: f.tenant_running, limit: f.max_running },
    });
  }
  if (f.class_cap !== null && f.class_running >= f.class_cap) {
    reasons.push({
      code: 'class_quota_full',
      message: `tenant ${f.tenant} is running ${f.class_running} of its ${f.class_cap} ${f.task_class} jobs at once (quota maxRunningByClass.${f.task_class})`,
      details: { taskClass: f.task_class, running: f.class_running, limit: f.class_cap },
    });
  }
  if (f.executors === 0) {
    reasons.push({
      code: 'no_executor',
      message: `no live executor serves topic ${f.topic}: start one with EXECUTOR_TOPICS=${f.topic} (or ALL)`,
      details: { topic: f.topic },
    });
  } else if (f.free_slots === 0) {
    reasons.push({
      code: 'executors_full',
      message:
        f.waiting_full > 0
          ? `all ${f.executors} live executors serving topic ${f.topic} are busy; ${f.waiting_full} of them already have as many pods waiting for room on the cluster as they may (maxPendingJobs): it starts once the cluster makes room`
          : `all ${f.executors} live executors serving topic ${f.topic} are busy (no free slot); it starts when one frees up`,
      details: { topic: f.topic, executors: f.executors, waitingForRoom: f.waiting_full },
    });
  }
  if (reasons.length === 0) {
    reasons.push({
      code: 'due',
      message: `due now, and ${f.executors} live executors with ${f.free_slots} free slots serve topic ${f.topic}: it starts at their next claim`,
      details: { executors: f.executors, freeSlots: f.free_slots },
    });
  }
  return reasons;
}
