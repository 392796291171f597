import { Logger } from '@nestjs/common';
import { withTransaction } from '@danube/db';
import { AttemptsRepository, ExecutorsRepository, type TerminalHook } from '@danube/queue';
import type { Pool } from 'pg';

/** How long a lease-expired executor's session may sit idle in a transaction before it is ended. */
const STALLED_SESSION_IDLE_MS = 1000;

/**
 * Ends expired leases, whoever held them (see REAP_EXPIRED_LEASES): the attempts of dead,
 * stalled or cut-off executors get their record and their jobs go back to the queue in
 * their old place; and forgets executors long stopped or lost (PRUNE_EXECUTORS). Every
 * executor runs it on a timer; a transaction-scoped advisory lock lets one through at a
 * time, and the others skip the round.
 */
export class Reaper {
  private readonly logger = new Logger(Reaper.name);

  constructor(
    private readonly pool: Pool,
    /** Runs in the same transaction: a reaped job that ended tells its workflow. */
    private readonly terminalHook: TerminalHook,
    /** Topics that got queued jobs, after the commit. */
    private readonly onQueued: (topics: Iterable<string>) => void,
    /** Stopped or lost executors older than this are forgotten. */
    private readonly pruneExecutorsAfterMs: number,
  ) {}

  async reap(): Promise<void> {
    const round = await withTransaction(this.pool, async (client) => {
      const attempts = AttemptsRepository.on(client);
      if (!(await attempts.tryReaperLock())) return null;
      // Rows a stalled executor's open transaction still locks are skipped below; ending
      // that session frees them for the next round.
      this.endedStalled(await attempts.endStalledExecutorSessions(STALLED_SESSION_IDLE_MS));
      const reaped = await attempts.reapExpiredLeases();
      const pruned = await ExecutorsRepository.on(client).prune(this.pruneExecutorsAfterMs);
      if (pruned.length > 0)
        this.logger.log(
          `forgot ${pruned.length} long stopped or lost executors: ${pruned.join(', ')}`,
        );
      // Jobs whose cancel was asked end here as cancelled: their workflows must hear of it.
      const ended = reaped.filter((j) => j.status === 'cancelled' && j.workflowId !== null);
      const { queuedTopics } =
        ended.length > 0
          ? await this.terminalHook.afterTerminal(client, ended)
          : { queuedTopics: [] };
      return { reaped, unblockedTopics: queuedTopics };
    });
    if (round === null) {
      // Another session holds the reaper's lock: usually a reaper at work, but it may be a
      // stalled executor's, which would hold it until it woke.
      this.endedStalled(
        await AttemptsRepository.on(this.pool).endStalledExecutorSessions(STALLED_SESSION_IDLE_MS),
      );
      return;
    }
    const { reaped, unblockedTopics } = round;
    if (unblockedTopics.length > 0) this.onQueued(unblockedTopics);
    if (reaped.length === 0) return;
    this.logger.warn(
      `reaped ${reaped.length} jobs whose lease expired: ${reaped
        .map((j) => j.id)
        .slice(0, 20)
        .join(', ')}`,
    );
    const topics = new Set(reaped.filter((j) => j.status === 'queued').map((j) => j.topic));
    if (topics.size > 0) this.onQueued(topics);
  }

  private endedStalled(executors: string[]): void {
    if (executors.length === 0) return;
    this.logger.warn(
      `ended the open transactions of ${executors.join(', ')}: they stalled (their leases or heartbeats expired) while holding job rows or the reaper's lock`,
    );
  }
}
