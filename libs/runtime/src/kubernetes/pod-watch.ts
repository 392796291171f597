import { Logger } from '@nestjs/common';
import { LABELS } from './job-manifest';
import type { KubeClient } from './kube-client';
import type { V1Pod } from './kubernetes-types';

export type PodListener = (pod: V1Pod, deleted: boolean) => void;

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/**
 * One informer per executor over the pods its label selector matches: a list, then a watch
 * from the list's resourceVersion, re-listed when the server says the version is gone (410)
 * and restarted with backoff after an error. Attempts subscribe by Job name; however many
 * run, the executor holds one watch and never polls a pod.
 */
export class PodWatch {
  private readonly logger = new Logger(PodWatch.name);
  private readonly informer: ReturnType<KubeClient['podInformer']>;
  private readonly listeners = new Map<string, PodListener>();
  /** The latest state of each Job's pod, for attempts that subscribe after it changed. */
  private readonly pods = new Map<string, V1Pod>();
  private restartDelayMs = RESTART_MIN_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private connected = false;
  /** Errors the informer reported so far: a (re)start that saw none has connected. */
  private errors = 0;

  constructor(
    client: KubeClient,
    readonly selector: string,
  ) {
    this.informer = client.podInformer(selector);
    this.informer.on('add', (pod) => this.dispatch(pod, false));
    this.informer.on('update', (pod) => this.dispatch(pod, false));
    this.informer.on('delete', (pod) => this.dispatch(pod, true));
    // The informer says 'connect' when it starts (re)connecting, before its list or watch
    // request has been answered: counted, but not taken as a connection.
    this.informer.on('connect', () => client.observeWatch());
    this.informer.on('error', (error) => {
      this.errors++;
      this.restartLater(error);
    });
  }

  /** Lists the pods and starts watching; healthy once both requests were answered. */
  async start(): Promise<void> {
    const errorsBefore = this.errors;
    try {
      await this.informer.start();
    } catch (error) {
      this.errors++;
      this.restartLater(error);
      return;
    }
    if (this.errors === errorsBefore && !this.stopped) {
      this.connected = true;
      this.restartDelayMs = RESTART_MIN_MS;
    }
  }

  /**
   * Whether the watch is connected: from a list and watch that were answered, until the
   * next error. A reconnection in progress does not count.
   */
  get healthy(): boolean {
    return this.connected;
  }

  /** Calls `listener` with every change to the pod of Job `jobName`, starting with its current state. */
  subscribe(jobName: string, listener: PodListener): () => void {
    this.listeners.set(jobName, listener);
    const current = this.pods.get(jobName);
    if (current) queueMicrotask(() => this.listeners.get(jobName)?.(current, false));
    return () => {
      if (this.listeners.get(jobName) === listener) this.listeners.delete(jobName);
    };
  }

  /** Whether a pod of Job `jobName` is known to exist now. */
  hasPod(jobName: string): boolean {
    return this.pods.has(jobName);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  private dispatch(pod: V1Pod, deleted: boolean): void {
    const jobName = pod.metadata?.labels?.[LABELS.jobName];
    if (!jobName) return;
    if (deleted) this.pods.delete(jobName);
    else this.pods.set(jobName, pod);
    this.listeners.get(jobName)?.(pod, deleted);
  }

  private restartLater(error: unknown): void {
    this.connected = false;
    if (this.stopped || this.restartTimer) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, RESTART_MAX_MS);
    this.logger.warn(
      `pod watch (${this.selector}) failed: ${error instanceof Error ? error.message : String(error)}; restarting in ${delay} ms`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) void this.start();
    }, delay);
  }
}
