import type { ClaimedJob, Job, JobError, JobStatus, TaskClass } from '@danube/core';

/** A row of danube.jobs as node-postgres returns it (bigint as string, jsonb parsed). */
export interface JobRow {
  id: string;
  tenant: string;
  topic: string;
  task_class: TaskClass;
  status: JobStatus;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  timeout_seconds: number;
  spec: Job['spec'] & { maxAttempts?: number };
  labels: Record<string, string>;
  idempotency_key: string | null;
  runtime_ref: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  started_by: string | null;
  progress: number | null;
  status_message: string | null;
  result: unknown;
  error: JobError | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cancel_requested_at: Date | null;
  workflow_id: string | null;
  node_name: string | null;
  skip_reason: string | null;
  parent_job_id: string | null;
}

export function toJob(row: JobRow): Job {
  const { maxAttempts: _budget, ...spec } = row.spec;
  return {
    id: row.id,
    tenant: row.tenant,
    topic: row.topic,
    taskClass: row.task_class,
    status: row.status,
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    timeoutSeconds: row.timeout_seconds,
    spec,
    labels: row.labels,
    idempotencyKey: row.idempotency_key,
    runtimeRef: row.runtime_ref,
    leaseOwner: row.lease_owner,
    startedBy: row.started_by,
    progress: row.progress,
    statusMessage: row.status_message,
    result: row.result,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cancelRequestedAt: row.cancel_requested_at,
    workflowId: row.workflow_id,
    nodeName: row.node_name,
    skipReason: row.skip_reason,
    parentJobId: row.parent_job_id,
  };
}

export type ClaimedRow = Pick<
  JobRow,
  | 'id'
  | 'tenant'
  | 'topic'
  | 'task_class'
  | 'priority'
  | 'run_at'
  | 'attempts'
  | 'max_attempts'
  | 'timeout_seconds'
  | 'spec'
  | 'labels'
  | 'runtime_ref'
  | 'started_at'
  | 'started_by'
  | 'workflow_id'
  | 'node_name'
> & { lease_token: string };

export function toClaimedJob(row: ClaimedRow): ClaimedJob {
  const { maxAttempts: _budget, ...spec } = row.spec;
  return {
    id: row.id,
    tenant: row.tenant,
    topic: row.topic,
    taskClass: row.task_class,
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    timeoutSeconds: row.timeout_seconds,
    spec,
    labels: row.labels,
    runtimeRef: row.runtime_ref,
    startedAt: row.started_at,
    startedBy: row.started_by,
    leaseToken: row.lease_token,
    workflowId: row.workflow_id,
    nodeName: row.node_name,
  };
}
