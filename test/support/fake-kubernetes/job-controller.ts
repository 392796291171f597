import { randomInt, randomUUID } from 'node:crypto';
import { validateJob } from './job-validation';
import { alreadyExists, badRequest, KubeApiError, notFound, successStatus } from './kube-status';
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
  /** status.startTime in epoch milliseconds: whole seconds, as the API keeps it. */
  startTime: number;
  cancelPod: (() => void) | null;
  cancelDeadline: (() => void) | null;
}

/** The spec fields of a Job that may change after creation (the rest are immutable). */
const MUTABLE_SPEC_FIELDS = new Set(['activeDeadlineSeconds', 'suspend', 'parallelism']);

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
    this.created.set(name, this.createdCount(name) + 1);
    const state: JobState = {
      finished: false,
      failed: 0,
      startTime: Date.parse(job.status.startTime),
      cancelPod: null,
      cancelDeadline: null,
    };
    this.states.set(uid, state);
    this.schedulePod(job, state, randomInt(POD_CREATION_DELAY_MS[0], POD_CREATION_DELAY_MS[1]));
    this.armDeadline(job, state);
    return stored;
  }

  /**
   * PATCH, as JSON Patch (the client's default), JSON merge patch or strategic merge patch
   * (merged as a merge patch: a Job's mutable fields hold no lists). Only labels,
   * annotations and the spec's mutable fields may change; a new activeDeadlineSeconds
   * counts from the Job's startTime, as the controller counts it.
   */
  patch(namespace: string, name: string, contentType: string, body: any): any {
    const job = this.store.get('jobs', namespace, name);
    if (!job) throw notFound('jobs.batch', name);
    const patched = applyPatch(snapshot(job), contentType, body);
    for (const field of new Set([...Object.keys(job.spec), ...Object.keys(patched.spec ?? {})])) {
      if (MUTABLE_SPEC_FIELDS.has(field)) continue;
      if (JSON.stringify(job.spec[field]) !== JSON.stringify(patched.spec?.[field])) {
        throw invalid(name, `spec.${field}: Invalid value: field is immutable`);
      }
    }
    const deadline = patched.spec.activeDeadlineSeconds;
    if (deadline !== undefined && !(Number.isInteger(deadline) && deadline >= 1)) {
      throw invalid(
        name,
        `spec.activeDeadlineSeconds: Invalid value: ${JSON.stringify(deadline)}: must be greater than or equal to 1`,
      );
    }
    job.metadata.labels = patched.metadata?.labels;
    job.metadata.annotations = patched.metadata?.annotations;
    job.spec = patched.spec;
    job.metadata.generation++;
    const stored = this.store.update('jobs', job);
    const state = this.states.get(job.metadata.uid);
    if (state && !state.finished) this.armDeadline(job, state);
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

  /** (Re)sets the timer of activeDeadlineSeconds, counted from status.startTime. */
  private armDeadline(job: any, state: JobState): void {
    state.cancelDeadline?.();
    state.cancelDeadline = null;
    const seconds = job.spec.activeDeadlineSeconds;
    if (!seconds) return;
    state.cancelDeadline = this.timers.after(state.startTime + seconds * 1000 - Date.now(), () =>
      this.deadlineExceeded(job),
    );
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

function invalid(name: string, cause: string): KubeApiError {
  return new KubeApiError(422, 'Invalid', `Job.batch "${name}" is invalid: ${cause}`, {
    name,
    group: 'batch',
    kind: 'Job',
  });
}

/** The patched object; 415 for a patch type the API server does not take. */
function applyPatch(object: any, contentType: string, body: any): any {
  if (contentType === 'application/json-patch+json') {
    if (!Array.isArray(body)) throw badRequest('the JSON patch must be a list of operations');
    for (const operation of body) applyOperation(object, operation);
    return object;
  }
  if (
    contentType === 'application/merge-patch+json' ||
    contentType === 'application/strategic-merge-patch+json'
  ) {
    return mergePatch(object, body);
  }
  throw new KubeApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
  );
}

/** add, replace and remove on a JSON Pointer path (RFC 6902); enough for a Job's fields. */
function applyOperation(object: any, operation: any): void {
  const { op, path, value } = operation ?? {};
  const keys = String(path ?? '')
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop();
  if (last === undefined || !['add', 'replace', 'remove'].includes(op)) {
    throw badRequest(`the JSON patch operation ${JSON.stringify(operation)} is not supported`);
  }
  let parent = object;
  for (const key of keys) {
    if (parent?.[key] === undefined) throw badRequest(`the path ${path} does not exist`);
    parent = parent[key];
  }
  if (op === 'remove') delete parent[last];
  else if (op === 'replace' && !(last in parent))
    throw badRequest(`the path ${path} does not exist`);
  else parent[last] = value;
}

/** RFC 7386: objects merge key by key, null removes, anything else replaces. */
function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
