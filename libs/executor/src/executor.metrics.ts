import type { ClaimedJob } from '@danube/core';
import type { DanubeMetrics } from '@danube/observability';
import type { AttemptFinish } from '@danube/queue';

/** What one executor counts into the process's metrics, in the words of its work. */
export class ExecutorMetrics {
  constructor(
    private readonly metrics: DanubeMetrics,
    private readonly executorId: string,
  ) {}

  /** Times one claim statement. */
  claimTimer(): () => void {
    return this.metrics.claimDuration.startTimer();
  }

  claimed(job: ClaimedJob): void {
    this.metrics.jobsClaimed.inc(labelsOf(job));
    if (job.runtimeRef !== null) this.metrics.leaseTakeovers.inc();
  }

  /** The attempt started: how long the job waited since it was due. */
  started(job: ClaimedJob, at: Date): void {
    this.metrics.queueWait.observe(
      labelsOf(job),
      Math.max(0, at.getTime() - job.runAt.getTime()) / 1000,
    );
  }

  running(count: number): void {
    this.metrics.running.set({ executor: this.executorId }, count);
  }

  /** The attempt's end was recorded: its outcome, its duration, and a retry or the job's end. */
  recorded(job: ClaimedJob, finish: AttemptFinish): void {
    const labels = labelsOf(job);
    this.metrics.attemptsFinished.inc({ ...labels, outcome: finish.outcome });
    if (finish.startedAt) {
      this.metrics.runDuration.observe(
        { ...labels, outcome: finish.outcome },
        (finish.finishedAt.getTime() - finish.startedAt.getTime()) / 1000,
      );
    }
    if (finish.nextStatus === 'queued') {
      this.metrics.retries.inc({ ...labels, error_category: finish.errorCategory ?? 'infra' });
    } else {
      this.metrics.jobsFinished.inc({ ...labels, status: finish.nextStatus });
    }
  }

  leasesRenewed(count: number): void {
    this.metrics.leaseRenewals.inc(count);
  }

  leaseLost(): void {
    this.metrics.leasesLost.inc();
  }
}

function labelsOf(job: ClaimedJob) {
  return { topic: job.topic, task_class: job.taskClass };
}
