import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { JobStatus, TriggerRule } from '@danube/core';
import * as sql from './workflows.sql';
import {
  toWorkflow,
  type Workflow,
  type WorkflowNode,
  type WorkflowRow,
  type WorkflowStatus,
} from './workflow-records';

/** A child of finished nodes, locked, with one of its finished parents (LOCK_CHILDREN). */
export interface LockedChild {
  id: string;
  status: JobStatus;
  trigger_rule: TriggerRule;
  pending_parents: number;
  succeeded_parents: number;
  failed_parents: number;
  parent_id: string;
  parent_status: JobStatus;
  parent_name: string;
  parent_skip_reason: string | null;
}

/** A child's new fan-in counters, and the status it moves to (null: it stays). */
export interface ChildUpdate {
  id: string;
  pending: number;
  succeeded: number;
  failed: number;
  becomes: JobStatus | null;
  reason: string | null;
}

/** Workflows, their nodes' jobs and their edges: the statements of workflows.sql.ts. */
@Injectable()
export class WorkflowsRepository extends Repository {
  async insertWorkflow(
    tenant: string,
    name: string,
    labels: Record<string, string>,
    nodeCount: number,
  ): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(sql.INSERT_WORKFLOW, [
      tenant,
      name,
      labels,
      nodeCount,
    ]);
    return rows[0]!.id;
  }

  /** Inserts the nodes' jobs (prepared rows, with node_name and fan-in fields); their ids by node name. */
  async insertNodeJobs(workflowId: string, rows: object[]): Promise<Map<string, string>> {
    const { rows: jobs } = await this.db.query<{ id: string; node_name: string }>(
      sql.INSERT_NODE_JOBS,
      [JSON.stringify(rows), workflowId],
    );
    return new Map(jobs.map((j) => [j.node_name, j.id]));
  }

  async insertEdges(workflowId: string, parents: string[], children: string[]): Promise<void> {
    if (parents.length > 0) await this.db.query(sql.INSERT_EDGES, [workflowId, parents, children]);
  }

  /** The workflow; `forUpdate` locks its row for the transaction. */
  /** `tenant` null: any tenant's (the server's own reads only). */
  async findById(
    tenant: string | null,
    id: string,
    { forUpdate = false } = {},
  ): Promise<Workflow | null> {
    const { rows } = await this.db.query<WorkflowRow>(
      forUpdate ? `${sql.SELECT_WORKFLOW} FOR UPDATE` : sql.SELECT_WORKFLOW,
      [id, tenant],
    );
    return rows[0] ? toWorkflow(rows[0]) : null;
  }

  async list(filter: {
    tenant: string;
    status?: WorkflowStatus;
    before?: string;
    limit: number;
  }): Promise<Workflow[]> {
    const { rows } = await this.db.query<WorkflowRow>(sql.LIST_WORKFLOWS, [
      filter.status ?? null,
      filter.before ?? null,
      filter.limit,
      filter.tenant,
    ]);
    return rows.map(toWorkflow);
  }

  async nodes(id: string): Promise<WorkflowNode[]> {
    const { rows } = await this.db.query(sql.SELECT_NODES, [id]);
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

  /** Edges as job ids. */
  async edges(id: string): Promise<{ parentId: string; childId: string }[]> {
    const { rows } = await this.db.query<{ parent_id: string; child_id: string }>(
      sql.SELECT_EDGES,
      [id],
    );
    return rows.map((e) => ({ parentId: e.parent_id, childId: e.child_id }));
  }

  /** A node's parents: their node names, job ids and results. */
  async parentResults(jobId: string): Promise<{ nodeName: string; id: string; result: unknown }[]> {
    const { rows } = await this.db.query<{ node_name: string; id: string; result: unknown }>(
      sql.PARENT_RESULTS,
      [jobId],
    );
    return rows.map((r) => ({ nodeName: r.node_name, id: r.id, result: r.result }));
  }

  /** running -> cancelled; false when the workflow is not running. */
  async cancel(tenant: string, id: string): Promise<boolean> {
    const { rows } = await this.db.query(sql.CANCEL_WORKFLOW, [id, tenant]);
    return rows.length > 0;
  }

  /** Skips the nodes of a cancelled workflow that have not started. */
  async skipWaitingNodes(id: string): Promise<{ id: string; parentJobId: string | null }[]> {
    const { rows } = await this.db.query<{ id: string; parent_job_id: string | null }>(
      sql.SKIP_WAITING_NODES,
      [id],
    );
    return rows.map((r) => ({ id: r.id, parentJobId: r.parent_job_id }));
  }

  /** Asks the executors running a cancelled workflow's nodes to stop them; their job ids. */
  async requestCancelOfRunningNodes(id: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(sql.REQUEST_CANCEL_OF_RUNNING_NODES, [id]);
    return rows.map((r) => r.id);
  }

  /** Queues (or blocks again) the unsuccessful nodes of a failed or cancelled workflow. */
  async rerunUnsuccessfulNodes(
    id: string,
  ): Promise<{ id: string; status: JobStatus; topic: string }[]> {
    const { rows } = await this.db.query<{ id: string; status: JobStatus; topic: string }>(
      sql.RERUN_UNSUCCESSFUL_NODES,
      [id],
    );
    return rows;
  }

  async restart(id: string, rerunNodes: number): Promise<void> {
    await this.db.query(sql.RESTART_WORKFLOW, [id, rerunNodes]);
  }

  /** Locks the children of `parentIds`, one row per (child, finished parent). */
  async lockChildren(parentIds: string[]): Promise<LockedChild[]> {
    const { rows } = await this.db.query<LockedChild>(sql.LOCK_CHILDREN, [parentIds]);
    return rows;
  }

  /** Writes children's counters and new statuses; returns the rows written. */
  async updateChildren(
    updates: ChildUpdate[],
  ): Promise<{ id: string; status: JobStatus; topic: string; workflow_id: string }[]> {
    const { rows } = await this.db.query<{
      id: string;
      status: JobStatus;
      topic: string;
      workflow_id: string;
    }>(sql.UPDATE_CHILDREN, [
      updates.map((u) => u.id),
      updates.map((u) => u.pending),
      updates.map((u) => u.succeeded),
      updates.map((u) => u.failed),
      updates.map((u) => u.becomes),
      updates.map((u) => u.reason),
    ]);
    return rows;
  }

  /** Counts ended and failed nodes into their workflows, which end with their last node. */
  async countEndedNodes(counts: Map<string, { ended: number; failed: number }>): Promise<void> {
    if (counts.size === 0) return;
    const ids = [...counts.keys()];
    await this.db.query(sql.COUNT_ENDED_NODES, [
      ids,
      ids.map((id) => counts.get(id)!.ended),
      ids.map((id) => counts.get(id)!.failed),
    ]);
  }
}
