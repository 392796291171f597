import type { AttemptsRepository, ExecutorsRepository } from '@danube/queue';
import type { ExecutorMetrics } from './executor.metrics';
import type { JobRunner } from './job-runner';

/**
 * The executor's side of its leases: renews all of them with one statement per heartbeat,
 * feeds the renewed attempts' watchdogs, stops attempts whose lease another executor holds
 * now or whose cancel was asked, and stops those it could not renew in time.
 */
export class LeaseKeeper {
  constructor(
    private readonly executorId: string,
    private readonly leaseMs: number,
    private readonly running: ReadonlyMap<string, JobRunner>,
    private readonly attempts: AttemptsRepository,
    private readonly executors: ExecutorsRepository,
    private readonly metrics: ExecutorMetrics,
    /** Of the running attempts, those whose code has not started yet. */
    private readonly waitingCount: () => number = () => 0,
  ) {}

  /** One heartbeat: renew the leases, then the executor's own row in the registry. */
  async heartbeat(): Promise<void> {
    const sentAt = performance.now();
    const ids = [...this.running.keys()];
    const renewals = await this.attempts.renewLeases(this.executorId, ids, this.leaseMs);
    this.metrics.leasesRenewed(renewals.filter((r) => r.renewed).length);
    const held = new Map(renewals.map((r) => [r.id, r]));
    for (const id of ids) {
      const runner = this.running.get(id);
      if (!runner) continue;
      const renewal = held.get(id);
      if (!renewal || renewal.leaseToken !== runner.job.leaseToken) {
        this.metrics.leaseLost();
        runner.stop('lease_lost');
        continue;
      }
      // Not renewed: another session holds the row locked. Still ours; its fence stands.
      if (renewal.renewed) runner.leaseRenewed(sentAt);
      if (renewal.cancelRequested) runner.stop('cancelled');
    }
    await this.executors.heartbeat(this.executorId, this.running.size, this.waitingCount());
  }

  /**
   * Stops attempts whose lease could not be renewed in time (Postgres out of reach, or this
   * process stalled), at the same moment their watchdogs kill them: before the lease ends
   * and another executor may take the job.
   */
  guard(): void {
    const now = performance.now();
    for (const runner of this.running.values()) {
      if (now >= runner.fenceAt) runner.stop('lease_expiring');
    }
  }
}
