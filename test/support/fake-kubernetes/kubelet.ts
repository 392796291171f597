import { join } from 'node:path';
import type { ContainerLog } from './container-log';
import { badRequest } from './kube-status';
import { timestamp } from './kube-time';
import { NODE_NAME, type FakeNode } from './node';
import type { ObjectStore } from './object-store';
import { PodRunner } from './pod-runner';
import type { Timers } from './timers';

/** What the Job controller hears from the node about its pods. */
export interface PodEvents {
  /** The pod's status changed (it is still stored). */
  podChanged(pod: any): void;
  /** Once per pod: it reached Succeeded or Failed, or it is being removed without having run. */
  podFinished(pod: any): void;
  /** The pod is gone from the API. */
  podRemoved(pod: any): void;
}

export interface KubeletOptions {
  /** Where each pod gets its temp dir. */
  dir: string;
  hostPaths: Record<string, string>;
  imagePullFails: (image: string) => boolean;
  node: FakeNode;
  /** A command to run instead of a container's own, by image (see runInstead). */
  commandFor: (image: string) => string[] | undefined;
  /** See ContainerLog's stderrLate. */
  stderrLate: boolean;
}

/** How long the scheduler takes to place a new pod. */
const SCHEDULING_DELAY_MS = 10;
/** How long close() waits for killed processes to be reaped. */
const CLOSE_WAIT_MS = 5_000;

/**
 * The scheduler and the one node: places each new pod where it fits (see FakeNode), or
 * leaves it Pending with PodScheduled False (Unschedulable) and tries it again, oldest
 * first, whenever a pod on the node ends or goes; runs each placed pod with a PodRunner,
 * publishes its status as its containers change, and carries out graceful deletion,
 * eviction and OOM kills.
 */
export class Kubelet {
  private readonly runners = new Map<string, PodRunner>();
  private readonly finished = new Set<string>();
  private readonly scheduling = new Map<string, () => void>();
  /** Pods the scheduler could not place yet, oldest first. */
  private readonly unschedulable: any[] = [];
  private retrying = false;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly timers: Timers,
    private readonly options: KubeletOptions,
    private readonly events: PodEvents,
  ) {}

  admit(pod: any): void {
    const uid = pod.metadata.uid;
    this.scheduling.set(
      uid,
      this.timers.after(SCHEDULING_DELAY_MS, () => {
        this.scheduling.delete(uid);
        this.schedule(pod);
      }),
    );
  }

  /**
   * Graceful deletion: deletionTimestamp now, containers stopped (SIGTERM, SIGKILL after the
   * grace period), their final states published, then the pod removed. A second delete can
   * only shorten the grace period.
   */
  deletePod(pod: any, graceSeconds?: number): void {
    const grace = Math.max(0, graceSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
    const uid = pod.metadata.uid;
    const runner = this.runners.get(uid);
    if (pod.metadata.deletionTimestamp) {
      if (graceSeconds !== undefined && grace < pod.metadata.deletionGracePeriodSeconds) {
        pod.metadata.deletionGracePeriodSeconds = grace;
        this.store.update('pods', pod);
        void runner?.terminate(grace);
      }
      return;
    }
    pod.metadata.deletionTimestamp = timestamp(Date.now() + grace * 1000);
    pod.metadata.deletionGracePeriodSeconds = grace;
    this.store.update('pods', pod);
    this.scheduling.get(uid)?.();
    this.scheduling.delete(uid);
    this.forgetUnschedulable(pod);
    void (runner ? runner.terminate(grace) : Promise.resolve()).then(() => this.remove(pod));
  }

  evict(pod: any): void {
    const runner = this.runnerOf(pod);
    void runner.evict().then(() => this.changed(pod));
  }

  oomKill(pod: any, containerName: string): void {
    if (!this.runnerOf(pod).oomKill(containerName)) {
      throw new Error(`container ${containerName} of pod ${pod.metadata.name} is not running`);
    }
  }

  /** PIDs of the containers' main processes that still run. */
  processIds(): number[] {
    return [...this.runners.values()].flatMap((runner) => runner.processIds());
  }

  /** The log of a container that has started; a 400 as the API answers otherwise. */
  containerLog(pod: any, containerName: string | undefined, previous: boolean): ContainerLog {
    const name = pod.metadata.name;
    const regular: string[] = pod.spec.containers.map((c: any) => c.name);
    const init: string[] = (pod.spec.initContainers ?? []).map((c: any) => c.name);
    if (!containerName) {
      if (regular.length !== 1 || init.length) {
        throw badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]` +
            (init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''),
        );
      }
      containerName = regular[0];
    }
    if (!regular.includes(containerName) && !init.includes(containerName)) {
      throw badRequest(`container ${containerName} is not valid for pod ${name}`);
    }
    if (previous) {
      throw badRequest(
        `previous terminated container "${containerName}" in pod "${name}" not found`,
      );
    }
    const runner = this.runners.get(pod.metadata.uid);
    if (!runner) throw badRequest(`pod ${name} does not have a host assigned`);
    const run = runner.runs.find((r) => r.name === containerName)!;
    if (run.process?.pid === undefined && !run.terminated) {
      const waiting = pod.status.containerStatuses
        ?.concat(pod.status.initContainerStatuses ?? [])
        .find((s: any) => s.name === containerName)?.state?.waiting?.reason;
      const why = /ImagePull/.test(waiting ?? '')
        ? 'trying and failing to pull image'
        : (waiting ?? 'ContainerCreating');
      throw badRequest(`container "${containerName}" in pod "${name}" is waiting to start: ${why}`);
    }
    return run.process!.log;
  }

  /** Kills every container and removes the pods' temp dirs. */
  async close(): Promise<void> {
    this.closed = true;
    const ended = Promise.all([...this.runners.values()].map((runner) => runner.kill()));
    await Promise.race([ended, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    for (const runner of this.runners.values()) runner.removeDirs();
    this.runners.clear();
  }

  private schedule(pod: any): void {
    if (this.closed || pod.metadata.deletionTimestamp || !this.store.holds('pods', pod)) return;
    pod.status.conditions ??= [];
    const why = this.options.node.whyNot(pod, this.boundPods());
    if (why) {
      this.markUnschedulable(pod, why);
      return;
    }
    this.forgetUnschedulable(pod);
    pod.spec.nodeName = NODE_NAME;
    pod.status.startTime = timestamp();
    pod.status.conditions = pod.status.conditions.filter((c: any) => c.type !== 'PodScheduled');
    pod.status.conditions.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: timestamp(),
    });
    const runner = new PodRunner(pod, {
      dir: join(this.options.dir, pod.metadata.uid),
      hostPaths: this.options.hostPaths,
      imagePullFails: this.options.imagePullFails,
      commandFor: this.options.commandFor,
      stderrLate: this.options.stderrLate,
      timers: this.timers,
      changed: () => this.changed(pod),
    });
    this.runners.set(pod.metadata.uid, runner);
    runner.start();
    this.changed(pod);
  }

  /** PodScheduled False, as the scheduler writes it: the first failure's time, the latest message. */
  private markUnschedulable(pod: any, message: string): void {
    const existing = pod.status.conditions.find((c: any) => c.type === 'PodScheduled');
    if (existing) {
      if (existing.message === message) return;
      existing.message = message;
    } else {
      pod.status.conditions.push({
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: timestamp(),
        reason: 'Unschedulable',
        message,
      });
      this.unschedulable.push(pod);
    }
    this.store.update('pods', pod);
  }

  private forgetUnschedulable(pod: any): void {
    const at = this.unschedulable.indexOf(pod);
    if (at !== -1) this.unschedulable.splice(at, 1);
  }

  /** Room was made on the node: the waiting pods are tried again soon, oldest first. */
  private retryUnschedulable(): void {
    if (this.unschedulable.length === 0 || this.retrying) return;
    this.retrying = true;
    this.timers.after(SCHEDULING_DELAY_MS, () => {
      this.retrying = false;
      for (const pod of [...this.unschedulable]) this.schedule(pod);
    });
  }

  /** The pods the node holds: placed, not ended, not yet removed. */
  private boundPods(): any[] {
    return this.store
      .list('pods')
      .filter(
        (p) =>
          p.spec.nodeName === NODE_NAME &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      );
  }

  /** Publishes the pod's status if its containers changed it. */
  private changed(pod: any): void {
    const runner = this.runners.get(pod.metadata.uid);
    if (this.closed || !runner || !this.store.holds('pods', pod)) return;
    const before = JSON.stringify(pod.status);
    runner.writeStatus(pod.status);
    if (JSON.stringify(pod.status) === before) return;
    this.store.update('pods', pod);
    this.events.podChanged(pod);
    const phase = pod.status.phase;
    if (phase === 'Succeeded' || phase === 'Failed') this.finish(pod);
  }

  private finish(pod: any): void {
    if (this.finished.has(pod.metadata.uid)) return;
    this.finished.add(pod.metadata.uid);
    this.events.podFinished(pod);
    this.retryUnschedulable();
  }

  private remove(pod: any): void {
    if (this.closed) return;
    this.changed(pod);
    this.finish(pod);
    delete pod.metadata.finalizers;
    this.store.delete('pods', pod);
    const runner = this.runners.get(pod.metadata.uid);
    runner?.removeDirs();
    this.runners.delete(pod.metadata.uid);
    this.finished.delete(pod.metadata.uid);
    this.forgetUnschedulable(pod);
    this.events.podRemoved(pod);
    this.retryUnschedulable();
  }

  private runnerOf(pod: any): PodRunner {
    const runner = this.runners.get(pod.metadata.uid);
    if (!runner) throw new Error(`pod ${pod.metadata.name} is not running on the node`);
    return runner;
  }
}
