import { Logger } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import type { Outcome } from '@danube/core';
import { stoppedOutcome, type AttemptContext, type RunHandle, type StopReason } from '../runtime';
import { KubeRequestError, type KubeClient } from './kube-client';
import type { KubernetesRuntimeOptions } from './kubernetes-runtime.config';
import type { V1Pod } from './kubernetes-types';
import { MAIN_CONTAINER } from './job-manifest';
import type { NodeFit } from './node-fit';
import { PodLogReader } from './pod-log';
import {
  jobHasEnded,
  mainFinishedAt,
  mainHasRun,
  mainIsRunning,
  mainStartedAt,
  readJobConditions,
  readPod,
} from './pod-outcome';

/** How long an ended attempt waits for the rest of its log before it is recorded. */
const LOG_DRAIN_MS = 5000;
/** Log streams retried when the container was not ready to serve one yet. */
const MAX_LOG_CONNECTS = 5;

/**
 * One attempt running as a Kubernetes Job, followed through the pod watch's events: when
 * its code starts (the timeout counts from then, and the Job gets its deadline), whether a
 * pod that cannot be placed waits for room or can never run, its log, and how it ended.
 */
export class KubernetesHandle implements RunHandle {
  readonly keepsRunning = true;
  /** When the job's container started (see mainStartedAt): a pod may wait for a node first. */
  readonly codeStarted: Promise<Date>;
  unsubscribe: () => void = () => undefined;
  private readonly logger = new Logger('KubernetesRuntime');
  private readonly outcome: Promise<Outcome>;
  private settle!: (outcome: Outcome) => void;
  private markCodeStarted!: (at: Date) => void;
  private codeStartSeen = false;
  private codeEnd: Date | null = null;
  /** The outcome is known (or being gathered): later pod changes are ignored. */
  private ending = false;
  private settled = false;
  /** Set once the attempt left this executor (lease lost, shutdown): its Job is not ours to delete. */
  private detached = false;
  /** The Job was deleted already (stopped, or could never run). */
  private deleted = false;
  private lastPod: V1Pod | null = null;
  private unschedulableTimer: NodeJS.Timeout | null = null;
  /** The pod was found able to fit on some node: it waits for room, logged once. */
  private waitingForRoom = false;
  private judging = false;
  /** What this attempt last said about why it waits (see AttemptContext.onWaiting). */
  private waitingSaid: string | null = null;
  private readonly lines: PodLogReader;
  private logState: 'none' | 'connecting' | 'streaming' = 'none';
  private logConnects = 0;
  private logConnected: Promise<void> = Promise.resolve();
  private logDone: Promise<void> = Promise.resolve();
  private logAbort: AbortController | null = null;

  constructor(
    readonly ref: string,
    private readonly jobName: string,
    private readonly context: AttemptContext,
    private readonly client: KubeClient,
    private readonly fit: NodeFit,
    private readonly options: KubernetesRuntimeOptions,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.codeStarted = new Promise((resolve) => (this.markCodeStarted = resolve));
    // Kubernetes keeps the container's stdout and stderr as one log, without saying which
    // line came from which: stored as 'combined'. An adopted attempt's log is read on from
    // the last line stored before.
    this.lines = new PodLogReader(
      (line, writtenAt) => context.onLog('combined', line, writtenAt),
      context.storedLog ?? null,
    );
  }

  wait(): Promise<Outcome> {
    return this.outcome;
  }

  codeEndedAt(): Date | null {
    return this.codeEnd;
  }

  stderrTail(): string {
    return this.lines.tailText();
  }

  async stop(reason: StopReason): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    if (reason === 'lease_lost' || reason === 'lease_expiring' || reason === 'shutdown') {
      // The Job goes on; the executor that takes the lease adopts it.
      this.detached = true;
      this.unsubscribe();
    } else {
      await this.deleteJob().catch((error: Error) =>
        this.logger.warn(
          `job ${this.context.job.id}: could not delete Kubernetes Job ${this.jobName} to stop it (${reason}): ${error.message}`,
        ),
      );
    }
    this.finish(stoppedOutcome(reason, this.context.job.timeoutSeconds));
  }

  /** After the attempt is recorded: the Job is deleted (its pod with it), unless it left us. */
  async cleanUp(): Promise<void> {
    this.unsubscribe();
    if (this.detached || this.deleted) return;
    await this.deleteJob().catch((error: Error) =>
      this.logger.warn(
        `job ${this.context.job.id}: could not delete finished Kubernetes Job ${this.jobName}: ${error.message}; its ttlSecondsAfterFinished removes it later`,
      ),
    );
  }

  onPod(pod: V1Pod, deleted: boolean): void {
    if (this.ending) return;
    this.lastPod = pod;
    const reading = readPod(pod, deleted, Date.now());
    if (mainHasRun(pod)) {
      this.noteCodeStarted(pod);
      this.followLog(pod);
      this.codeEnd ??= mainFinishedAt(pod, Date.now());
    }
    switch (reading.kind) {
      case 'waiting':
        this.watchUnschedulable(reading.unschedulable);
        return;
      case 'ended':
        void this.end(Promise.resolve(reading.outcome), reading.deleteJob);
        return;
      case 'ask-job':
        void this.end(this.askJob(), false);
        return;
    }
  }

  /**
   * The job's container has started: its timeout counts from now on. The Job was created
   * without activeDeadlineSeconds, so that waiting for a node costs no run time; it gets
   * one now, as the backstop that ends the pod on time should no executor follow it.
   */
  private noteCodeStarted(pod: V1Pod): void {
    if (this.codeStartSeen) return;
    this.codeStartSeen = true;
    const startedAt = mainStartedAt(pod, Date.now())!;
    this.markCodeStarted(startedAt);
    this.sayWaiting(null);
    if (mainIsRunning(pod)) void this.setDeadline(pod, startedAt);
  }

  /**
   * activeDeadlineSeconds counts from the Job's status.startTime (whole seconds), set just
   * before its pod was created: the patch assumes the second before the pod's, which may
   * let the deadline fire up to a second late, never early. The Job the patch returns
   * tells the real startTime; only one earlier than that assumption takes a second patch.
   */
  private async setDeadline(pod: V1Pod, startedAt: Date): Promise<void> {
    const until = startedAt.getTime() + this.context.job.timeoutSeconds * 1000;
    const secondsFrom = (jobStart: number) => Math.max(1, Math.ceil((until - jobStart) / 1000));
    const podCreated = pod.metadata?.creationTimestamp;
    let seconds = secondsFrom((podCreated ? new Date(podCreated).getTime() : Date.now()) - 1000);
    try {
      for (let patches = 0; patches < 2 && !this.ending; patches++) {
        const job = await this.client.setJobDeadline(this.jobName, seconds);
        const jobStart = job.status?.startTime;
        const needed = jobStart ? secondsFrom(new Date(jobStart).getTime()) : seconds;
        if (needed <= seconds) return;
        seconds = needed;
      }
    } catch (error) {
      if (this.ending) return;
      this.logger.warn(
        `job ${this.context.job.id}: could not set the Kubernetes Job's activeDeadlineSeconds (${(error as Error).message}); this executor's timer still ends the attempt on time`,
      );
    }
  }

  /** Ends the attempt as the Job's conditions say if the Job has ended; else waits for its pod. */
  async endIfJobEnded(): Promise<void> {
    let job;
    try {
      job = await this.client.readJob(this.jobName);
    } catch (error) {
      // Gone meanwhile, or unreadable now: the pod's events (or their absence) decide.
      if (error instanceof KubeRequestError && error.code === 404) return;
      this.logger.warn(
        `job ${this.context.job.id}: could not read Kubernetes Job ${this.jobName}: ${(error as Error).message}`,
      );
      return;
    }
    if (this.ending || this.lastPod || !jobHasEnded(job)) return;
    void this.end(Promise.resolve(readJobConditions(job, this.context.job.timeoutSeconds)), false);
  }

  /** The pod went away or ended with no reason of its own: the Job's conditions tell why. */
  private async askJob(): Promise<Outcome> {
    try {
      return readJobConditions(
        await this.client.readJob(this.jobName),
        this.context.job.timeoutSeconds,
      );
    } catch (error) {
      if (error instanceof KubeRequestError && error.code === 404)
        return readJobConditions(null, this.context.job.timeoutSeconds);
      return {
        kind: 'failed',
        category: 'infra',
        message: `the pod went away and the Job could not be read: ${(error as Error).message}`,
      };
    }
  }

  /** Gathers the rest of the log, deletes the Job if it would otherwise linger, and settles. */
  private async end(outcome: Promise<Outcome>, deleteJob: boolean): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    const result = await outcome;
    if (deleteJob) await this.deleteJob().catch(() => undefined);
    await this.logConnected;
    const drained = new Promise<void>((resolve) => setTimeout(resolve, LOG_DRAIN_MS).unref());
    await Promise.race([this.logDone, drained]);
    this.lines.end();
    // After the job's own lines, as the process runtime says it.
    if (result.kind === 'succeeded' && result.warning)
      this.context.onLog('stderr', `danube: ${result.warning}`);
    this.finish(result);
  }

  private async deleteJob(): Promise<void> {
    await this.client.deleteJob(this.jobName);
    this.deleted = true;
  }

  private finish(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    if (this.unschedulableTimer) clearTimeout(this.unschedulableTimer);
    this.logAbort?.abort();
    this.lines.end();
    this.settle(outcome);
  }

  /** Streams the job container's log once it has run: one request per attempt. */
  private followLog(pod: V1Pod): void {
    const podName = pod.metadata?.name;
    if (!podName || this.logState !== 'none' || this.logConnects >= MAX_LOG_CONNECTS) return;
    this.logState = 'connecting';
    this.logConnects++;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => this.lines.write(chunk));
    this.logDone = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
    this.logConnected = this.client
      .followLog(podName, MAIN_CONTAINER, stream, this.lines.since)
      .then((abort) => {
        this.logAbort = abort;
        this.logState = 'streaming';
      })
      .catch((error: Error) => {
        // Usually a container not ready to serve its log yet: the next pod change retries.
        this.logState = 'none';
        this.logDone = Promise.resolve();
        if (this.logConnects >= MAX_LOG_CONNECTS || this.ending)
          this.context.onLog('stderr', `danube: could not read the pod's log: ${error.message}`);
      });
  }

  /**
   * A pod the scheduler cannot place waits for room as long as it takes, unless no node
   * could ever take it: that is asked once it has waited the unschedulable limit, and
   * again each limit after while it still waits (the nodes may change).
   */
  private watchUnschedulable(unschedulable: { since: number; message: string } | null): void {
    if (unschedulable) this.sayWaiting(`its pod waits for a node: ${unschedulable.message}`);
    if (!unschedulable || this.unschedulableTimer || this.judging) return;
    const limitMs = this.options.unschedulableTimeoutSeconds * 1000;
    const waited = Date.now() - unschedulable.since;
    const due = waited < limitMs ? limitMs - waited : this.waitingForRoom ? limitMs : 0;
    this.unschedulableTimer = setTimeout(() => {
      this.unschedulableTimer = null;
      void this.judgeUnschedulable();
    }, due + 10);
  }

  private sayWaiting(reason: string | null): void {
    if (reason === this.waitingSaid) return;
    this.waitingSaid = reason;
    this.context.onWaiting?.(reason);
  }

  private async judgeUnschedulable(): Promise<void> {
    const pod = this.lastPod;
    if (this.ending || !pod) return;
    const reading = readPod(pod, false, Date.now());
    if (reading.kind !== 'waiting' || !reading.unschedulable) return;
    const { message } = reading.unschedulable;
    this.judging = true;
    const verdict = await this.fit.check(pod).finally(() => (this.judging = false));
    if (this.ending) return;
    if (this.lastPod !== pod) {
      // The pod changed meanwhile: judge what it is now.
      const now = readPod(this.lastPod!, false, Date.now());
      if (now.kind === 'waiting') this.watchUnschedulable(now.unschedulable);
      return;
    }
    const limit = this.options.unschedulableTimeoutSeconds;
    if (verdict.kind === 'fits') {
      if (!this.waitingForRoom) {
        this.logger.log(
          `job ${this.context.job.id} attempt ${this.context.attempt}: its pod waits for room on the cluster (${message})`,
        );
      }
      this.waitingForRoom = true;
      this.watchUnschedulable(reading.unschedulable);
      return;
    }
    const why =
      verdict.kind === 'never'
        ? `no node of the cluster can ever take the pod: ${verdict.why}`
        : `no node could take the pod for ${limit} s, and whether one ever could is not known (${verdict.why})`;
    void this.end(
      Promise.resolve({
        kind: 'failed',
        category: 'infra',
        message: `${why}; the scheduler says: ${message}`,
      }),
      true,
    );
  }
}
