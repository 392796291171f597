import { Logger } from '@nestjs/common';
import { JobSpecError } from '@danube/core';
import type { AttemptContext, RunHandle, Runtime } from '../runtime';
import { KubeClient, KubeRequestError, type RequestObserver } from './kube-client';
import type { KubernetesRuntimeOptions } from './kubernetes-runtime.config';
import { buildJobManifest, jobName, podSelector } from './job-manifest';
import { KubernetesHandle } from './kubernetes-handle';
import { NodeFit } from './node-fit';
import { PodWatch } from './pod-watch';

/**
 * Runs each attempt as a batch/v1 Job (see job-manifest.ts for its shape) and follows it
 * through one shared pod watch. The Job's name is fixed by job id and attempt, so starting
 * an attempt twice, or adopting one whose Job already exists, attaches to the same Job:
 * an attempt never runs twice.
 */
export class KubernetesRuntime implements Runtime {
  readonly name = 'kubernetes';
  private readonly logger = new Logger(KubernetesRuntime.name);
  private readonly fit: NodeFit;

  private constructor(
    private readonly client: KubeClient,
    private readonly watch: PodWatch,
    private readonly options: KubernetesRuntimeOptions,
  ) {
    this.fit = new NodeFit(client);
  }

  /** Pods of this executor that may wait for a node at once; the rest stay queued. */
  get maxWaitingAttempts(): number {
    return this.options.maxPendingJobs;
  }

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
    const logger = new Logger(KubernetesRuntime.name);
    // A first list that failed was logged by the watch, which retries it with backoff.
    if (watch.healthy)
      logger.log(
        `watching pods in namespace ${options.namespace} of ${client.server} (${watch.selector})`,
      );
    else
      logger.warn(
        `not watching pods in namespace ${options.namespace} of ${client.server} yet: the first list failed; no jobs are claimed until it works`,
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
      this.fit,
      this.options,
    );
    handle.unsubscribe = this.watch.subscribe(name, (pod, deleted) => handle.onPod(pod, deleted));
    // An existing Job without a pod may have ended while no executor followed it (its
    // deadline passed, and the Job controller deleted the pod): its conditions tell.
    if (existed && !this.watch.hasPod(name)) void handle.endIfJobEnded();
    return handle;
  }
}
