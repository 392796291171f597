import { countParents, type JobStatus } from '@danube/core';
import type { Queryable } from '@danube/db';
import type { TerminalHook, TerminalJob } from '@danube/queue';
import { WorkflowsRepository, type LockedChild } from './workflows.repository';

/** Node outcomes that make a workflow fail (a skipped node is a consequence, not a cause). */
const FAILING: readonly JobStatus[] = ['failed', 'timed_out', 'cancelled'];

/**
 * What happens in a workflow when some of its nodes reach a terminal status, inside the
 * transaction that put them there: each child's fan-in counters move by its finished
 * parents; a child whose trigger is now met is queued, one whose trigger can no longer
 * be met is skipped, and skipped children pass the same on to theirs, down the graph.
 * The nodes that ended are counted into their workflows, which end with their last node.
 * Cost: the finished nodes' edges and children, never the whole workflow.
 */
export class WorkflowRelease implements TerminalHook {
  async afterTerminal(client: Queryable, jobs: TerminalJob[]): Promise<{ queuedTopics: string[] }> {
    const workflows = WorkflowsRepository.on(client);
    const queuedTopics = new Set<string>();
    const ended = new Map<string, { ended: number; failed: number }>();
    // Steps show in their workflow but are not its nodes: they have no edges and do not
    // count towards its end (their parent node does).
    let finished = jobs.filter((j) => j.workflowId !== null && j.parentJobId === null);
    while (finished.length > 0) {
      for (const job of finished) {
        const counts = ended.get(job.workflowId!) ?? { ended: 0, failed: 0 };
        counts.ended++;
        if (FAILING.includes(job.status)) counts.failed++;
        ended.set(job.workflowId!, counts);
      }
      const changed = await this.countParents(
        workflows,
        finished.map((j) => j.id),
      );
      for (const child of changed) if (child.status === 'queued') queuedTopics.add(child.topic);
      finished = changed
        .filter((child) => child.status === 'skipped')
        .map((child) => ({
          id: child.id,
          status: child.status,
          workflowId: child.workflow_id,
          parentJobId: null,
        }));
    }
    await workflows.countEndedNodes(ended);
    return { queuedTopics: [...queuedTopics] };
  }

  /** Moves the counters of the children of `parentIds`; returns the children whose status changed. */
  private async countParents(workflows: WorkflowsRepository, parentIds: string[]) {
    const rows = await workflows.lockChildren(parentIds);
    const children = new Map<
      string,
      { row: LockedChild; succeeded: number; failed: number; reason: string | null }
    >();
    for (const row of rows) {
      const child = children.get(row.id) ?? { row, succeeded: 0, failed: 0, reason: null };
      if (row.parent_status === 'succeeded') {
        child.succeeded++;
      } else {
        child.failed++;
        child.reason ??=
          row.parent_status === 'skipped' && row.parent_skip_reason
            ? row.parent_skip_reason
            : `upstream node "${row.parent_name}" ${row.parent_status.replace('_', ' ')}`;
      }
      children.set(row.id, child);
    }
    if (children.size === 0) return [];
    const updates = [...children.values()].map(({ row, succeeded, failed, reason }) => {
      const step = countParents(
        {
          trigger: row.trigger_rule,
          pending: row.pending_parents,
          succeeded: row.succeeded_parents,
          failed: row.failed_parents,
        },
        succeeded,
        failed,
      );
      // Only a node still waiting can be released or skipped; others just keep count.
      const becomes = row.status === 'blocked' ? step.becomes : null;
      return {
        id: row.id,
        pending: step.pending,
        succeeded: step.succeeded,
        failed: step.failed,
        becomes,
        reason: becomes === 'skipped' ? reason : null,
      };
    });
    const changed = await workflows.updateChildren(updates);
    const moved = new Set(updates.filter((u) => u.becomes !== null).map((u) => u.id));
    return changed.filter((c) => moved.has(c.id));
  }
}
