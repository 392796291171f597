import type { JobError, JobStatus, NewJob, TriggerRule } from '@danube/core';

/** Workflows and their nodes, as stored and as given out. */

export type WorkflowStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A node as submitted: a job plus its place in the graph. */
export interface NewNode extends NewJob {
  name: string;
  dependsOn?: string[];
  trigger?: TriggerRule;
}

export interface NewWorkflow {
  name: string;
  labels?: Record<string, string>;
  tenant?: string;
  nodes: NewNode[];
}

export interface Workflow {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: WorkflowStatus;
  nodeCount: number;
  unfinishedNodes: number;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface WorkflowNode {
  name: string;
  jobId: string;
  status: JobStatus;
  trigger: TriggerRule;
  topic: string;
  attempts: number;
  skipReason: string | null;
  error: JobError | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** For a step (started by a node's RunStep call): the job id of the node that started it. */
  stepOf: string | null;
}

export interface WorkflowRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: WorkflowStatus;
  node_count: number;
  unfinished_nodes: number;
  created_at: Date;
  finished_at: Date | null;
}

export function toWorkflow(row: WorkflowRow): Workflow {
  return {
    id: row.id,
    name: row.name,
    labels: row.labels,
    status: row.status,
    nodeCount: row.node_count,
    unfinishedNodes: row.unfinished_nodes,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
