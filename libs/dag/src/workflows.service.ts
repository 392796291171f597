import { Inject, Injectable } from '@nestjs/common';
import {
  DanubeError,
  NotFoundError,
  validateGraph,
  type JobError,
  type JobStatus,
  type NewJob,
  type TriggerRule,
} from '@danube/core';
import { InjectPool, withTransaction } from '@danube/db';
import { CANCEL_CHANNEL, JOBS_CHANNEL, JobsService, Notifier } from '@danube/queue';
import type { Pool } from 'pg';
import { WorkflowRelease } from './workflow-release';
import * as sql from './workflows.sql';

export const DAG_OPTIONS = Symbol('DAG_OPTIONS');

export interface DagOptions {
  /** Most nodes one workflow may have (DAG_MAX_NODES). */
  maxNodes: number;
}

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

interface WorkflowRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: WorkflowStatus;
  node_count: number;
  unfinished_nodes: number;
  created_at: Date;
  finished_at: Date | null;
}

function toWorkflow(row: WorkflowRow): Workflow {
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

/** Workflows as users see them: submit a graph of jobs, watch it, cancel it, retry it. */
@Injectable()
export class WorkflowsService {
  private readonly release = new WorkflowRelease();

  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly jobs: JobsService,
    private readonly notifier: Notifier,
    @Inject(DAG_OPTIONS) private readonly options: DagOptions,
  ) {}

  /**
   * Validates the whole graph and every node's job before storing anything, then stores the
   * workflow, its jobs (roots queued, the rest blocked on their parents) and its edges in
   * one transaction.
   */
  async submit(workflow: NewWorkflow): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    validateGraph(workflow.nodes, this.options.maxNodes);
    // Stored in the order submitted: validateGraph has already refused cycles and unknown names.
    const rows = workflow.nodes.map((node, i) => {
      if (node.idempotencyKey !== undefined) {
        throw new DanubeError(
          'invalid_argument',
          `nodes[${i}].idempotencyKey: workflow nodes take no idempotency key`,
        );
      }
      const prepared = this.jobs.prepare({ ...node, tenant: workflow.tenant }, `nodes[${i}].`);
      const parents = node.dependsOn?.length ?? 0;
      return {
        ...prepared,
        status: parents === 0 ? 'queued' : 'blocked',
        node_name: node.name,
        trigger_rule: node.trigger ?? 'all_success',
        pending_parents: parents,
      };
    });

    const id = await withTransaction(this.pool, async (client) => {
      const { rows: created } = await client.query<WorkflowRow>(sql.INSERT_WORKFLOW, [
        workflow.tenant ?? 'default',
        workflow.name,
        workflow.labels ?? {},
        workflow.nodes.length,
      ]);
      const workflowId = created[0]!.id;
      const { rows: jobs } = await client.query<{ id: string; node_name: string }>(
        sql.INSERT_NODE_JOBS,
        [JSON.stringify(rows), workflowId],
      );
      const jobIds = new Map(jobs.map((j) => [j.node_name, j.id]));
      const parents: string[] = [];
      const children: string[] = [];
      for (const node of workflow.nodes) {
        for (const parent of node.dependsOn ?? []) {
          parents.push(jobIds.get(parent)!);
          children.push(jobIds.get(node.name)!);
        }
      }
      if (parents.length > 0) await client.query(sql.INSERT_EDGES, [workflowId, parents, children]);
      return workflowId;
    });
    this.jobs.countEnqueued(rows.map((r) => ({ topic: r.topic, taskClass: r.task_class })));
    this.notifier.notify(
      JOBS_CHANNEL,
      new Set(rows.filter((r) => r.status === 'queued').map((r) => r.topic)),
    );
    return this.get(id);
  }

  async get(id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const { rows } = await this.pool.query<WorkflowRow>(sql.SELECT_WORKFLOW, [id]);
    if (!rows[0]) throw new NotFoundError('workflow', id);
    return { workflow: toWorkflow(rows[0]), nodes: await this.nodes(id) };
  }

  async list(filter: {
    status?: WorkflowStatus;
    before?: string;
    limit: number;
  }): Promise<Workflow[]> {
    const { rows } = await this.pool.query<WorkflowRow>(sql.LIST_WORKFLOWS, [
      filter.status ?? null,
      filter.before ?? null,
      filter.limit,
    ]);
    return rows.map(toWorkflow);
  }

  /** Nodes and edges (by node name) with their states, for drawing. */
  async graph(
    id: string,
  ): Promise<{ workflow: Workflow; nodes: WorkflowNode[]; edges: { from: string; to: string }[] }> {
    const { workflow, nodes } = await this.get(id);
    const names = new Map(nodes.map((n) => [n.jobId, n.name]));
    const { rows } = await this.pool.query<{ parent_id: string; child_id: string }>(
      sql.SELECT_EDGES,
      [id],
    );
    return {
      workflow,
      nodes,
      edges: rows.map((e) => ({ from: names.get(e.parent_id)!, to: names.get(e.child_id)! })),
    };
  }

  /** Stops running nodes and skips those that have not started. */
  async cancel(id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const result = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<WorkflowRow>(sql.CANCEL_WORKFLOW, [id]);
      if (!rows[0]) return null;
      const { rows: skipped } = await client.query<{ id: string; parent_job_id: string | null }>(
        sql.SKIP_WAITING_NODES,
        [id],
      );
      const { rows: stopping } = await client.query<{ id: string }>(
        sql.REQUEST_CANCEL_OF_RUNNING_NODES,
        [id],
      );
      await this.release.afterTerminal(
        client,
        skipped.map((s) => ({
          id: s.id,
          status: 'skipped' as const,
          workflowId: id,
          parentJobId: s.parent_job_id,
        })),
      );
      return { stopping: stopping.map((s) => s.id) };
    });
    if (!result) {
      const current = await this.get(id);
      throw new DanubeError(
        'invalid_transition',
        `workflow ${id} is ${current.workflow.status}; only a running workflow can be cancelled`,
      );
    }
    if (result.stopping.length > 0) this.notifier.notify(CANCEL_CHANNEL, result.stopping);
    return this.get(id);
  }

  /** Runs a failed or cancelled workflow's unsuccessful nodes again; succeeded nodes keep their results. */
  async retry(id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const topics = await withTransaction(this.pool, async (client) => {
      const { rows: current } = await client.query<WorkflowRow>(
        `${sql.SELECT_WORKFLOW} FOR UPDATE`,
        [id],
      );
      if (!current[0] || !['failed', 'cancelled'].includes(current[0].status)) return null;
      const { rows: rerun } = await client.query<{ id: string; status: JobStatus; topic: string }>(
        sql.RERUN_UNSUCCESSFUL_NODES,
        [id],
      );
      await client.query(sql.RESTART_WORKFLOW, [id, rerun.length]);
      return new Set(rerun.filter((r) => r.status === 'queued').map((r) => r.topic));
    });
    if (!topics) {
      const current = await this.get(id);
      throw new DanubeError(
        'invalid_transition',
        `workflow ${id} is ${current.workflow.status}; only a failed or cancelled workflow can be retried`,
      );
    }
    this.notifier.notify(JOBS_CHANNEL, topics);
    return this.get(id);
  }

  private async nodes(id: string): Promise<WorkflowNode[]> {
    const { rows } = await this.pool.query(sql.SELECT_NODES, [id]);
    return rows.map((r) => ({
      name: r.node_name,
      jobId: r.id,
      status: r.status,
      trigger: r.trigger_rule,
      topic: r.topic,
      attempts: r.attempts,
      skipReason: r.skip_reason,
      error: r.error,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      stepOf: r.parent_job_id,
    }));
  }
}
