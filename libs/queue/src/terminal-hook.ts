import type { JobStatus } from '@danube/core';
import type { Queryable } from '@danube/db';

/** A job that has just entered a terminal status, in the transaction that moved it. */
export interface TerminalJob {
  id: string;
  status: JobStatus;
  workflowId: string | null;
  /** Set on steps (RunStep children): they show in their workflow but are not its nodes. */
  parentJobId: string | null;
}

/**
 * Called inside the transaction that moved jobs to a terminal status, so that whatever
 * depends on them changes in the same commit (workflows: children released or skipped).
 * Returns the topics that got newly queued jobs, to be notified after the commit.
 */
export interface TerminalHook {
  afterTerminal(client: Queryable, jobs: TerminalJob[]): Promise<{ queuedTopics: string[] }>;
}
