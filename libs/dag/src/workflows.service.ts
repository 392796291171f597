import { Inject, Injectable, Optional } from '@nestjs/common';
import { TenantsService } from '@danube/auth';
import { DanubeError, NotFoundError, validateGraph } from '@danube/core';
import { InjectPool, withTransaction, type Queryable } from '@danube/db';
import { CANCEL_CHANNEL, JOBS_CHANNEL, JobsService, Notifier, type JobInsert } from '@danube/queue';
import type { Pool } from 'pg';
import type { NewWorkflow, Workflow, WorkflowNode, WorkflowStatus } from './workflow-records';
import { WorkflowRelease } from './workflow-release';
import { WorkflowsRepository } from './workflows.repository';

export const DAG_OPTIONS = Symbol('DAG_OPTIONS');

/** A workflow checked and turned into the rows of its nodes, ready to store. */
export interface PreparedWorkflow {
  workflow: NewWorkflow;
  tenant: string;
  rows: (JobInsert & {
    status: 'queued' | 'blocked';
    node_name: string;
    trigger_rule: string;
    pending_parents: number;
  })[];
}

export interface DagOptions {
  /** Most nodes one workflow may have (DAG_MAX_NODES). */
  maxNodes: number;
}

/** Workflows as users see them: submit a graph of jobs, watch it, cancel it, retry it. */
@Injectable()
export class WorkflowsService {
  private readonly release = new WorkflowRelease();

  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly workflows: WorkflowsRepository,
    private readonly jobs: JobsService,
    private readonly notifier: Notifier,
    @Inject(DAG_OPTIONS) private readonly options: DagOptions,
    @Optional() @Inject(TenantsService) private readonly tenants: TenantsService | null = null,
  ) {}

  /**
   * Validates the whole graph and every node's job before storing anything, then stores the
   * workflow, its jobs (roots queued, the rest blocked on their parents) and its edges in
   * one transaction.
   */
  async submit(workflow: NewWorkflow): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const prepared = this.prepare(workflow);
    const id = await withTransaction(this.pool, (client) => this.storeWithin(client, prepared));
    this.announce(prepared);
    return this.get(prepared.tenant, id);
  }

  /**
   * The graph and every node's job checked, and the rows its nodes are stored as: throws
   * what submit would, naming the node's field.
   */
  prepare(workflow: NewWorkflow): PreparedWorkflow {
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
        status: parents === 0 ? ('queued' as const) : ('blocked' as const),
        node_name: node.name,
        trigger_rule: node.trigger ?? 'all_success',
        pending_parents: parents,
      };
    });
    return { workflow, tenant: workflow.tenant ?? 'default', rows };
  }

  /**
   * Stores a prepared workflow inside the caller's transaction, admitted against its
   * tenant's limits; returns its id. After the commit, pass it to announce().
   */
  async storeWithin(client: Queryable, prepared: PreparedWorkflow): Promise<string> {
    const { workflow, tenant, rows } = prepared;
    await this.tenants?.admit(client, rows, (i) => `nodes[${i}].`);
    const workflows = WorkflowsRepository.on(client);
    const workflowId = await workflows.insertWorkflow(
      tenant,
      workflow.name,
      workflow.labels ?? {},
      workflow.nodes.length,
    );
    const jobIds = await workflows.insertNodeJobs(workflowId, rows);
    const parents: string[] = [];
    const children: string[] = [];
    for (const node of workflow.nodes) {
      for (const parent of node.dependsOn ?? []) {
        parents.push(jobIds.get(parent)!);
        children.push(jobIds.get(node.name)!);
      }
    }
    await workflows.insertEdges(workflowId, parents, children);
    return workflowId;
  }

  /** Counts a stored workflow's jobs and wakes the executors of its roots' topics. */
  announce({ rows }: PreparedWorkflow): void {
    this.jobs.countEnqueued(rows.map((r) => ({ topic: r.topic, taskClass: r.task_class })));
    this.notifier.notify(
      JOBS_CHANNEL,
      new Set(rows.filter((r) => r.status === 'queued').map((r) => r.topic)),
    );
  }

  /** A workflow of `tenant`: NotFoundError also when another tenant has one with that id. */
  async get(tenant: string, id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const workflow = await this.workflows.findById(tenant, id);
    if (!workflow) throw new NotFoundError('workflow', id);
    return { workflow, nodes: await this.workflows.nodes(id) };
  }

  async list(filter: {
    tenant: string;
    status?: WorkflowStatus;
    before?: string;
    limit: number;
  }): Promise<Workflow[]> {
    return this.workflows.list(filter);
  }

  /** Nodes and edges (by node name) with their states, for drawing. */
  async graph(
    tenant: string,
    id: string,
  ): Promise<{ workflow: Workflow; nodes: WorkflowNode[]; edges: { from: string; to: string }[] }> {
    const { workflow, nodes } = await this.get(tenant, id);
    const names = new Map(nodes.map((n) => [n.jobId, n.name]));
    const edges = await this.workflows.edges(id);
    return {
      workflow,
      nodes,
      edges: edges.map((e) => ({ from: names.get(e.parentId)!, to: names.get(e.childId)! })),
    };
  }

  /** Stops running nodes and skips those that have not started. */
  async cancel(tenant: string, id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const result = await withTransaction(this.pool, async (client) => {
      const workflows = WorkflowsRepository.on(client);
      if (!(await workflows.cancel(tenant, id))) return null;
      const skipped = await workflows.skipWaitingNodes(id);
      const stopping = await workflows.requestCancelOfRunningNodes(id);
      await this.release.afterTerminal(
        client,
        skipped.map((s) => ({
          id: s.id,
          status: 'skipped' as const,
          workflowId: id,
          parentJobId: s.parentJobId,
        })),
      );
      return { stopping };
    });
    if (!result) {
      const current = await this.get(tenant, id);
      throw new DanubeError(
        'invalid_transition',
        `workflow ${id} is ${current.workflow.status}; only a running workflow can be cancelled`,
      );
    }
    if (result.stopping.length > 0) this.notifier.notify(CANCEL_CHANNEL, result.stopping);
    return this.get(tenant, id);
  }

  /** Runs a failed or cancelled workflow's unsuccessful nodes again; succeeded nodes keep their results. */
  async retry(tenant: string, id: string): Promise<{ workflow: Workflow; nodes: WorkflowNode[] }> {
    const topics = await withTransaction(this.pool, async (client) => {
      const workflows = WorkflowsRepository.on(client);
      const current = await workflows.findById(tenant, id, { forUpdate: true });
      if (!current || !['failed', 'cancelled'].includes(current.status)) return null;
      const rerun = await workflows.rerunUnsuccessfulNodes(id);
      await workflows.restart(id, rerun.length);
      return new Set(rerun.filter((r) => r.status === 'queued').map((r) => r.topic));
    });
    if (!topics) {
      const current = await this.get(tenant, id);
      throw new DanubeError(
        'invalid_transition',
        `workflow ${id} is ${current.workflow.status}; only a failed or cancelled workflow can be retried`,
      );
    }
    this.notifier.notify(JOBS_CHANNEL, topics);
    return this.get(tenant, id);
  }
}
