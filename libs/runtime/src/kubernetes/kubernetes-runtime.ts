import { Logger } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { JobSpecError, type Outcome } from '@danube/core';
import {
  stoppedOutcome,
  type AttemptContext,
  type RunHandle,
  type Runtime,
  type StopReason,
} from '../runtime';
import { KubeClient, KubeRequestError, type RequestObserver } from './kube-client';
import type { KubernetesRuntimeOptions } from './kubernetes-runtime.config';
import type { V1Pod } from './kubernetes-types';
import { buildJobManifest, jobName, MAIN_CONTAINER, podSelector } from './job-manifest';
import { PodWatch } from './pod-watch';
import { PodLogReader } from './pod-log';
import { mainHasRun, readJobConditions, readPod } from './pod-outcome';

/** How long an ended attempt waits for the rest of its log before it is recorded. */
const LOG_DRAIN_MS = 5000;
/** Log streams retried when the container was not ready to serve one yet. */
const MAX_LOG_CONNECTS = 5;

/**
 * Runs each attempt as a batch/v1 Job (see job-manifest.ts for its shape) and follows it
 * through one shared pod watch. The Job's name is fixed by job id and attempt, so starting
 * an attempt twice, or adopting one whose Job already exists, attaches to the same Job:
 * an attempt never runs twice.
 */
export class KubernetesRuntime implements Runtime {
  readonly name = 'kubernetes';
  private readonly logger = new Logger(KubernetesRuntime.name);

  private constructor(
    private readonly client: KubeClient,
    private readonly watch: PodWatch,
    private readonly options: KubernetesRuntimeOptions,
  ) {}

  static async connect(
    options: KubernetesRuntimeOptions,
    observe: RequestObserver = () => undefined,
  ): Promise<KubernetesRuntime> {
    const client = await KubeClient.connect({
      inCluster: options.inCluster,
      namespace: options.namespace,
      observe,
    });
    const watch = new PodWatch(client, podSelector(options.servedTopics));
    await watch.start();
    new Logger(KubernetesRuntime.name).log(
      `watching pods in namespace ${options.namespace} of ${client.server} (${watch.selector})`,
    );
    return new KubernetesRuntime(client, watch, options);
  }

  readiness(): string | null {
    return this.watch.healthy
      ? null
      : `the pod watch on ${this.client.server} is not connected; it reconnects with backoff`;
  }

  refFor(context: AttemptContext): string {
    return `kubernetes:${this.options.namespace}/${jobName(context.job.id, context.attempt)}`;
  }

  async start(context: AttemptContext): Promise<RunHandle> {
    return this.createOrAttach(context);
  }

  /**
   * Re-attaches to the attempt's Job. Adoption goes through the same create: if the Job
   * exists (the usual case) the create is refused and the attempt is attached to it; if the
   * previous executor died before creating it, it is created now.
   */
  async adopt(ref: string, context: AttemptContext): Promise<RunHandle | null> {
    if (ref !== this.refFor(context)) return null;
    return this.createOrAttach(context);
  }

  async close(): Promise<void> {
    await this.watch.stop();
  }

  private async createOrAttach(context: AttemptContext): Promise<RunHandle> {
    const manifest = buildJobManifest(context, this.options);
    const name = manifest.metadata!.name!;
    let existed = false;
    try {
      await this.client.createJob(manifest);
    } catch (error) {
      // 422 Invalid: the API server refuses this Job as specified (its resources, an
      // override); trying again gives the same answer, so the attempt fails as permanent.
      if (error instanceof KubeRequestError && error.code === 422)
        throw new JobSpecError(`the Kubernetes API refused the Job: ${error.message}`);
      if (!(error instanceof KubeRequestError && error.code === 409)) throw error;
      existed = true;
    }
    // The runner enters every attempt whose ref it stored first through adopt(), so a
    // create that succeeds is the usual fresh start; only attaching is news.
    if (existed) {
      this.logger.log(
        `job ${context.job.id} attempt ${context.attempt}: attached to the existing Kubernetes Job ${name}`,
      );
    } else {
      this.logger.debug(
        `job ${context.job.id} attempt ${context.attempt}: created Kubernetes Job ${name}`,
      );
    }
    const handle = new KubernetesHandle(
      this.refFor(context),
      name,
      context,
      this.client,
      this.options,
    );
    handle.unsubscribe = this.watch.subscribe(name, (pod, deleted) => handle.onPod(pod, deleted));
    return handle;
  }
}

class KubernetesHandle implements RunHandle {
  readonly keepsRunning = true;
  unsubscribe: () => void = () => undefined;
  private readonly logger = new Logger(KubernetesRuntime.name);
  private readonly outcome: Promise<Outcome>;
  private settle!: (outcome: Outcome) => void;
  /** The outcome is known (or being gathered): later pod changes are ignored. */
  private ending = false;
  private settled = false;
  /** Set once the attempt left this executor (lease lost, shutdown): its Job is not ours to delete. */
  private detached = false;
  /** The Job was deleted already (stopped, or could never run). */
  private deleted = false;
  private lastPod: V1Pod | null = null;
  private unschedulableTimer: NodeJS.Timeout | null = null;
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
    private readonly options: KubernetesRuntimeOptions,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    // Kubernetes merges the container's stdout and stderr into one log. An adopted
    // attempt's log is read on from the last line stored before.
    this.lines = new PodLogReader(
      (line, writtenAt) => context.onLog('stdout', line, writtenAt),
      context.storedLog ?? null,
    );
  }

  wait(): Promise<Outcome> {
    return this.outcome;
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
    const reading = readPod(
      pod,
      deleted,
      Date.now(),
      this.options.unschedulableTimeoutSeconds * 1000,
    );
    if (mainHasRun(pod)) this.followLog(pod);
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

  private watchUnschedulable(unschedulable: { since: number; message: string } | null): void {
    if (!unschedulable || this.unschedulableTimer) return;
    const due = unschedulable.since + this.options.unschedulableTimeoutSeconds * 1000 - Date.now();
    this.unschedulableTimer = setTimeout(
      () => {
        this.unschedulableTimer = null;
        if (this.lastPod) this.onPod(this.lastPod, false);
      },
      Math.max(0, due) + 10,
    );
  }
}
