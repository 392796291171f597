import { randomInt, randomUUID } from 'node:crypto';
import { validateJob } from './job-validation';
import { alreadyExists, badRequest, notFound, successStatus } from './kube-status';
import { timestamp } from './kube-time';
import type { Kubelet } from './kubelet';
import { snapshot, type ObjectStore } from './object-store';
import type { Timers } from './timers';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/**
 * How a failed Job's terminal conditions are written: 'target-first' as Kubernetes 1.31 and
 * later do (FailureTarget at once, Failed only once its pods are gone), 'failed-at-once' as
 * older versions do.
 */
export type JobFailureConditions = 'target-first' | 'failed-at-once';

/** How often a Job whose failure is decided looks for its pods to be gone. */
const PODS_GONE_POLL_MS = 50;

interface JobState {
  finished: boolean;
  failed: number;
  cancelPod: (() => void) | null;
  cancelDeadline: (() => void) | null;
}

/** The Job controller creates a Job's pod this long after the Job (20-50 ms). */
const POD_CREATION_DELAY_MS = [20, 50] as const;
/** The delay before a failed pod is replaced, while the backoff limit allows it. */
const RETRY_DELAY_MS = 200;
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz';

/**
 * The API server's Job endpoint and the Job controller: validates and stores Jobs, creates
 * each Job's pod, records how the pod ended in the Job's status (Complete, or Failed with
 * BackoffLimitExceeded / DeadlineExceeded), enforces activeDeadlineSeconds and carries out
 * deletion with its propagation policy (Orphan, the API's default for Jobs, Background,
 * Foreground).
 */
export class JobController {
  private readonly states = new Map<string, JobState>();
  private readonly created = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly kubelet: Kubelet,
    private readonly timers: Timers,
    private readonly failureConditions: JobFailureConditions = 'target-first',
  ) {}

  /** How many times a Job of that name was created (refused duplicates not counted). */
  createdCount(name: string): number {
    return this.created.get(name) ?? 0;
  }

  create(namespace: string, body: any, dryRun: boolean): any {
    validateJob(body, namespace);
    const metadata = body.metadata;
    const name: string = metadata.name ?? `${metadata.generateName}${randomSuffix()}`;
    if (this.store.get('jobs', namespace, name)) throw alreadyExists('jobs.batch', name);
    const uid = randomUUID();
    const controllerLabels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    const template = body.spec.template;
    const templateLabels = { ...template.metadata?.labels, ...controllerLabels };
    const job: any = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...metadata,
        name,
        namespace,
        uid,
        generation: 1,
        creationTimestamp: timestamp(),
        labels: metadata.labels ?? templateLabels,
      },
      spec: {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        ...body.spec,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: {
          metadata: { ...template.metadata, labels: templateLabels },
          spec: withPodDefaults(template.spec),
        },
      },
      status: {
        startTime: timestamp(),
        active: 1,
        ready: 0,
        terminating: 0,
        uncountedTerminatedPods: {},
      },
    };
    if (dryRun) return snapshot(job);
    const stored = this.store.create('jobs', job);
    const startTime = Date.now();
    this.created.set(name, this.createdCount(name) + 1);
    const state: JobState = { finished: false, failed: 0, cancelPod: null, cancelDeadline: null };
    this.states.set(uid, state);
    this.schedulePod(job, state, randomInt(POD_CREATION_DELAY_MS[0], POD_CREATION_DELAY_MS[1]));
    if (job.spec.activeDeadlineSeconds) {
      // Counted from status.startTime, which has whole seconds: up to a second early.
      const start = Math.floor(startTime / 1000) * 1000;
      state.cancelDeadline = this.timers.after(
        start + job.spec.activeDeadlineSeconds * 1000 - Date.now(),
        () => this.deadlineExceeded(job),
      );
    }
    return stored;
  }

  delete(namespace: string, name: string, policy: PropagationPolicy): any {
    const job = this.store.get('jobs', namespace, name);
    if (!job) throw notFound('jobs.batch', name);
    const state = this.states.get(job.metadata.uid);
    state?.cancelPod?.();
    state?.cancelDeadline?.();
    const pods = this.podsOf(job);
    const deleted = successStatus({ name, group: 'batch', kind: 'jobs', uid: job.metadata.uid });
    if (policy === 'Orphan') {
      for (const pod of pods) {
        delete pod.metadata.ownerReferences;
        this.store.update('pods', pod);
      }
      this.forget(job);
      return deleted;
    }
    if (policy === 'Foreground') {
      if (!pods.length) {
        this.forget(job);
        return deleted;
      }
      job.metadata.deletionTimestamp ??= timestamp();
      job.metadata.deletionGracePeriodSeconds = 0;
      job.metadata.finalizers = ['foregroundDeletion'];
      const stored = this.store.update('jobs', job);
      for (const pod of pods) this.kubelet.deletePod(pod);
      return stored;
    }
    this.forget(job);
    for (const pod of pods) this.kubelet.deletePod(pod);
    return deleted;
  }

  /** The pod reached Succeeded or Failed (or is removed without having run). */
  podFinished(pod: any): void {
    const job = this.ownerOf(pod);
    const state = job && this.states.get(job.metadata.uid);
    if (!job || !state || state.finished || job.metadata.deletionTimestamp) return;
    job.status.active = 0;
    if (pod.status.phase === 'Succeeded') {
      job.status.succeeded = 1;
      this.finish(
        job,
        state,
        'Complete',
        'CompletionsReached',
        'Reached expected number of succeeded pods',
      );
      return;
    }
    job.status.failed = ++state.failed;
    if (state.failed > job.spec.backoffLimit) {
      this.finish(
        job,
        state,
        'Failed',
        'BackoffLimitExceeded',
        'Job has reached the specified backoff limit',
      );
      return;
    }
    this.store.update('jobs', job);
    this.schedulePod(job, state, RETRY_DELAY_MS);
  }

  podChanged(pod: any): void {
    const job = this.ownerOf(pod);
    if (!job) return;
    const ready = this.podsOf(job).filter((p) =>
      p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    if (job.status.ready === ready) return;
    job.status.ready = ready;
    this.store.update('jobs', job);
  }

  /** A Job deleted in the foreground goes once its last pod has. */
  podRemoved(pod: any): void {
    const job = this.ownerOf(pod);
    if (job?.metadata.deletionTimestamp && !this.podsOf(job).length) this.forget(job);
  }

  private schedulePod(job: any, state: JobState, delayMs: number): void {
    state.cancelPod = this.timers.after(delayMs, () => {
      state.cancelPod = null;
      if (!this.store.holds('jobs', job) || state.finished) return;
      this.createPod(job);
    });
  }

  private createPod(job: any): void {
    const template = job.spec.template;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job.metadata.name}-${randomSuffix()}`,
        generateName: `${job.metadata.name}-`,
        namespace: job.metadata.namespace,
        labels: { ...template.metadata.labels },
        ...(template.metadata.annotations && { annotations: { ...template.metadata.annotations } }),
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: job.metadata.name,
            uid: job.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        finalizers: ['batch.kubernetes.io/job-tracking'],
      },
      spec: structuredClone(template.spec),
      status: { phase: 'Pending', qosClass: qosClass(template.spec) },
    };
    this.store.create('pods', pod);
    if (job.status.active !== 1) {
      job.status.active = 1;
      this.store.update('jobs', job);
    }
    this.kubelet.admit(pod);
  }

  private deadlineExceeded(job: any): void {
    const state = this.states.get(job.metadata.uid);
    if (!state || state.finished || !this.store.holds('jobs', job)) return;
    state.cancelPod?.();
    const pods = this.podsOf(job).filter((p) => !p.metadata.deletionTimestamp);
    job.status.active = 0;
    job.status.failed = state.failed + pods.filter((p) => !isTerminal(p)).length;
    this.finish(
      job,
      state,
      'Failed',
      'DeadlineExceeded',
      'Job was active longer than specified deadline',
    );
    for (const pod of pods) this.kubelet.deletePod(pod);
  }

  /**
   * Terminal conditions. A success: SuccessCriteriaMet and Complete. A failure: as
   * `failureConditions` says, FailureTarget first and Failed once the pods are gone
   * (1.31+), or both at once.
   */
  private finish(
    job: any,
    state: JobState,
    type: 'Complete' | 'Failed',
    reason: string,
    message: string,
  ): void {
    state.finished = true;
    state.cancelDeadline?.();
    const now = timestamp();
    const condition = (conditionType: string) => ({
      type: conditionType,
      status: 'True',
      lastProbeTime: now,
      lastTransitionTime: now,
      reason,
      message,
    });
    const later = type === 'Failed' && this.failureConditions === 'target-first';
    job.status.conditions = [
      condition(type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget'),
      ...(later ? [] : [condition(type)]),
    ];
    if (later) this.whenPodsGone(job, () => condition(type));
    delete job.status.active;
    job.status.ready = 0;
    // The API sets completionTime only for Jobs that complete successfully.
    if (type === 'Complete') job.status.completionTime = now;
    this.store.update('jobs', job);
  }

  /** Adds the Failed condition once none of the Job's pods is left running or terminating. */
  private whenPodsGone(job: any, failed: () => object): void {
    this.timers.after(PODS_GONE_POLL_MS, () => {
      if (!this.store.holds('jobs', job)) return;
      if (this.podsOf(job).some((p) => !isTerminal(p) || p.metadata.deletionTimestamp))
        return this.whenPodsGone(job, failed);
      job.status.conditions.push(failed());
      this.store.update('jobs', job);
    });
  }

  private forget(job: any): void {
    this.store.delete('jobs', job);
    this.states.delete(job.metadata.uid);
  }

  private podsOf(job: any): any[] {
    return this.store
      .list('pods', job.metadata.namespace)
      .filter((pod) => pod.metadata.ownerReferences?.some((o: any) => o.uid === job.metadata.uid));
  }

  private ownerOf(pod: any): any | undefined {
    const owner = pod.metadata.ownerReferences?.find((o: any) => o.kind === 'Job');
    const job = owner && this.store.get('jobs', pod.metadata.namespace, owner.name);
    return job?.metadata.uid === owner?.uid ? job : undefined;
  }
}

/** The propagation policy of a DELETE: the query's, else the body's (DeleteOptions), else Orphan. */
export function propagationPolicy(query: URLSearchParams, body: any): PropagationPolicy {
  const policy =
    query.get('propagationPolicy') ??
    body?.propagationPolicy ??
    (query.get('orphanDependents') === 'false' || body?.orphanDependents === false
      ? 'Background'
      : 'Orphan');
  if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}"`);
  }
  return policy;
}

function isTerminal(pod: any): boolean {
  return pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
}

function withPodDefaults(spec: any): any {
  const container = (c: any) => ({
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: /:latest$|^[^:]*$/.test(c.image ?? '') ? 'Always' : 'IfNotPresent',
    resources: {},
    ...c,
  });
  return {
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    ...spec,
    containers: spec.containers.map(container),
    ...(spec.initContainers && { initContainers: spec.initContainers.map(container) }),
  };
}

function qosClass(spec: any): string {
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const resources = containers.map((c: any) => c.resources ?? {});
  if (resources.every((r) => !r.requests && !r.limits)) return 'BestEffort';
  const guaranteed = resources.every((r) =>
    ['cpu', 'memory'].every(
      (k) => r.limits?.[k] !== undefined && (r.requests?.[k] ?? r.limits[k]) === r.limits[k],
    ),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]).join(
    '',
  );
}
