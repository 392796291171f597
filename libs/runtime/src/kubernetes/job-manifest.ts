import { createHash } from 'node:crypto';
import {
  JobSpecError,
  quantityAmount,
  type ClaimedJob,
  type ResourceHints,
  type ResourceName,
} from '@danube/core';
import {
  DEFAULT_TASK_CLASSES,
  GPU_RESOURCE,
  type KubernetesRuntimeOptions,
  type Placement,
  type PodOverride,
} from './kubernetes-runtime.config';
import type { V1Container, V1EnvVar, V1Job, V1ResourceRequirements } from './kubernetes-types';

/** The pod's shared directory: outputs, result.json and the job's home. */
export const SHARED_DIR = '/danube';
export const MAIN_CONTAINER = 'main';
export const COLLECTOR_CONTAINER = 'output-collector';
export const COLLECTOR_ENTRY = '/app/dist/apps/output-collector/src/main.js';
/**
 * The collector writes this once it listens for SIGTERM. Its startupProbe waits for the
 * file, and the kubelet starts the job's container only after a native sidecar's startup
 * probe passed: a job that ends at once cannot end before the collector can hear it.
 */
export const COLLECTOR_READY_FILE = `${SHARED_DIR}/.collector-ready`;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  jobId: 'danube.io/job-id',
  attempt: 'danube.io/attempt',
  topic: 'danube.io/topic',
  tenant: 'danube.io/tenant',
  /** Set by the Job controller on its pods. */
  jobName: 'job-name',
} as const;

/** The Job of one attempt: the same name every time, which makes creating it idempotent. */
export function jobName(jobId: string, attempt: number): string {
  return `danube-${jobId}-${attempt}`;
}

/**
 * A label value for any string: itself when Kubernetes allows it (63 characters of
 * [A-Za-z0-9_.-], alphanumeric at both ends), else a readable part plus a short hash, so
 * that different topics never share a value.
 */
export function labelValue(value: string): string {
  if (/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(value)) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 10);
  const readable = value
    .replace(/[^-A-Za-z0-9_.]/g, '_')
    .slice(0, 50)
    .replace(/^[^A-Za-z0-9]+/, '');
  return `${readable}${readable ? '-' : ''}h${hash}`;
}

/** The label selector of one executor's pod watch: Danube's pods of the topics it serves. */
export function podSelector(servedTopics: string[] | null): string {
  const managed = `${LABELS.managedBy}=danube`;
  if (servedTopics === null) return managed;
  return `${managed},${LABELS.topic} in (${servedTopics.map(labelValue).join(',')})`;
}

/** The settings that apply to a job: defaults, then its task class, then its topic. */
export function placementFor(job: ClaimedJob, options: KubernetesRuntimeOptions) {
  const taskClass =
    options.taskClasses[job.taskClass] ??
    (job.taskClass === 'gpu_slurm' ? undefined : DEFAULT_TASK_CLASSES[job.taskClass]);
  if (!taskClass) {
    throw new JobSpecError(
      `task class ${job.taskClass} is not configured for this Kubernetes executor; ${
        job.taskClass === 'gpu_slurm'
          ? 'gpu_slurm jobs need a Slurm runtime, or taskClasses.gpu_slurm in K8S_RUNTIME_CONFIG; use taskClass gpu for a Kubernetes GPU node'
          : `add taskClasses.${job.taskClass} to K8S_RUNTIME_CONFIG`
      }`,
    );
  }
  const topic = options.topics[job.topic];
  const layers: Placement[] = [options.defaults, taskClass, ...(topic ? [topic] : [])];
  return {
    pod: layers.reduce<PodOverride>((merged, layer) => mergeOverride(merged, layer.pod ?? {}), {}),
    grpcAddress: layers.reduce(
      (address, layer) => layer.grpcAddress ?? address,
      options.grpcAddress,
    ),
    resources: resourcesFor(job, taskClass.resources),
  };
}

/** Later wins: maps merge key by key, lists append, single values replace. */
export function mergeOverride(base: PodOverride, over: PodOverride): PodOverride {
  const merged: PodOverride = { ...base, ...over };
  if (base.nodeSelector || over.nodeSelector)
    merged.nodeSelector = { ...base.nodeSelector, ...over.nodeSelector };
  if (base.securityContext || over.securityContext)
    merged.securityContext = { ...base.securityContext, ...over.securityContext };
  for (const list of ['imagePullSecrets', 'tolerations', 'volumes', 'volumeMounts'] as const) {
    if (base[list] || over[list])
      (merged[list] as unknown[]) = [...(base[list] ?? []), ...(over[list] ?? [])];
  }
  if (base.collector || over.collector) {
    const mounts = [
      ...(base.collector?.volumeMounts ?? []),
      ...(over.collector?.volumeMounts ?? []),
    ];
    const resources = over.collector?.resources ?? base.collector?.resources;
    merged.collector = {
      ...(mounts.length > 0 && { volumeMounts: mounts }),
      ...(resources && { resources }),
    };
  }
  return merged;
}

/**
 * The task class's resources with the job's hints over them; gpu adds exactly one GPU.
 * Where that puts a request above its limit (Kubernetes refuses such a pod), the job's own
 * value wins and the class's gives way: a job's lower limit lowers the class's request, a
 * job's higher request raises the class's limit. (A job's own request above its own limit
 * is refused at submit.)
 */
/** A quantity's amount, or NaN for one this code does not read (then nothing is adjusted). */
function amount(quantity: string): number {
  try {
    return quantityAmount(quantity);
  } catch {
    return Number.NaN;
  }
}

function resourcesFor(
  job: ClaimedJob,
  classResources: V1ResourceRequirements | undefined,
): V1ResourceRequirements {
  const hints: ResourceHints = job.spec.resources ?? {};
  const requests: Record<string, string> = { ...classResources?.requests, ...hints.requests };
  const limits: Record<string, string> = { ...classResources?.limits, ...hints.limits };
  for (const [name, limit] of Object.entries(limits)) {
    const request = requests[name];
    if (request === undefined || !(amount(request) > amount(limit))) continue;
    if (hints.limits?.[name as ResourceName] !== undefined) requests[name] = limit;
    else limits[name] = request;
  }
  if (job.taskClass === 'gpu') {
    // One whole GPU per attempt, never shared; extended resources need request = limit.
    requests[GPU_RESOURCE] = '1';
    limits[GPU_RESOURCE] = '1';
  }
  return {
    ...(Object.keys(requests).length > 0 && { requests }),
    ...(Object.keys(limits).length > 0 && { limits }),
  };
}

export interface ManifestInput {
  job: ClaimedJob;
  attempt: number;
  /** What the executor adds to the job's env: token, API address, workflow context, secrets. */
  env: Record<string, string>;
}

/**
 * The batch/v1 Job of one attempt: the job's container plus the output-collector as a
 * native sidecar (an init container with restartPolicy Always, stopped by the kubelet
 * once the job's container has ended), sharing an emptyDir at /danube.
 */
export function buildJobManifest(input: ManifestInput, options: KubernetesRuntimeOptions): V1Job {
  const { job, attempt } = input;
  const image = job.spec.image ?? options.defaultImage;
  if (!image) {
    throw new JobSpecError(
      'the job names no image and the Kubernetes runtime has no default; submit it with "image", or set defaults.image in K8S_RUNTIME_CONFIG',
    );
  }
  const placement = placementFor(job, options);
  // The pull secret of the tenant's image rule that allowed this image, then the config's.
  const imagePullSecrets = [
    ...(job.spec.imagePullSecret ? [{ name: job.spec.imagePullSecret }] : []),
    ...(placement.pod.imagePullSecrets ?? []),
  ];
  const name = jobName(job.id, attempt);
  const labels = {
    [LABELS.managedBy]: 'danube',
    [LABELS.jobId]: job.id,
    [LABELS.attempt]: String(attempt),
    [LABELS.topic]: labelValue(job.topic),
    [LABELS.tenant]: labelValue(job.tenant),
  };
  const shared = { name: 'danube', mountPath: SHARED_DIR };
  const { pod } = placement;
  const token = input.env.DANUBE_JOB_TOKEN;

  const main: V1Container = {
    name: MAIN_CONTAINER,
    image,
    command:
      typeof job.spec.command === 'string' ? ['/bin/sh', '-c', job.spec.command] : job.spec.command,
    env: envList({
      ...job.spec.env,
      ...input.env,
      HOME: `${SHARED_DIR}/work`,
      DANUBE_JOB_ID: job.id,
      DANUBE_ATTEMPT: String(attempt),
      DANUBE_TOPIC: job.topic,
      DANUBE_GRPC_ADDRESS: placement.grpcAddress,
      DANUBE_WORK_DIR: `${SHARED_DIR}/work`,
      DANUBE_OUTPUT_DIR: `${SHARED_DIR}/outputs`,
      DANUBE_RESULT_FILE: `${SHARED_DIR}/result.json`,
    }),
    resources: placement.resources,
    volumeMounts: [shared, ...(pod.volumeMounts ?? [])],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...(pod.imagePullPolicy && { imagePullPolicy: pod.imagePullPolicy }),
  };
  const collector: V1Container = {
    name: COLLECTOR_CONTAINER,
    image: options.collectorImage,
    restartPolicy: 'Always',
    command: ['node', COLLECTOR_ENTRY],
    env: envList({
      DANUBE_JOB_ID: job.id,
      DANUBE_ATTEMPT: String(attempt),
      ...(token !== undefined && { DANUBE_JOB_TOKEN: token }),
      DANUBE_GRPC_ADDRESS: placement.grpcAddress,
      DANUBE_OUTPUT_DIR: `${SHARED_DIR}/outputs`,
      DANUBE_RESULT_FILE: `${SHARED_DIR}/result.json`,
      // Done well inside the grace period the kubelet gives it after the job's container ends.
      COLLECTOR_DEADLINE_MS: String(Math.max(5, options.terminationGracePeriodSeconds - 5) * 1000),
      COLLECTOR_READY_FILE,
      COLLECTOR_TERMINATION_LOG: '/dev/termination-log',
    }),
    startupProbe: {
      exec: { command: ['test', '-f', COLLECTOR_READY_FILE] },
      periodSeconds: 1,
      failureThreshold: 120,
    },
    resources: pod.collector?.resources ?? {
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { memory: '256Mi' },
    },
    volumeMounts: [shared, ...(pod.collector?.volumeMounts ?? [])],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...(pod.imagePullPolicy && { imagePullPolicy: pod.imagePullPolicy }),
  };

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: options.namespace, labels },
    spec: {
      // Danube owns retries: each attempt is its own Job.
      backoffLimit: 0,
      // No activeDeadlineSeconds yet: it would count while the pod waits for a node. The
      // runtime sets it once the job's container has started (KubernetesHandle.setDeadline).
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: options.terminationGracePeriodSeconds,
          initContainers: [collector],
          containers: [main],
          volumes: [{ name: 'danube', emptyDir: {} }, ...(pod.volumes ?? [])],
          ...(imagePullSecrets.length > 0 && { imagePullSecrets }),
          ...(pod.serviceAccountName && { serviceAccountName: pod.serviceAccountName }),
          ...(pod.nodeSelector && { nodeSelector: pod.nodeSelector }),
          ...(pod.tolerations && { tolerations: pod.tolerations }),
          ...(pod.securityContext && { securityContext: pod.securityContext }),
          ...(pod.hostNetwork !== undefined && { hostNetwork: pod.hostNetwork }),
        },
      },
    },
  };
}

function envList(env: Record<string, string>): V1EnvVar[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}
