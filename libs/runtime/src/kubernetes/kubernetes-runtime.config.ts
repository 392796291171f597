import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { QUANTITY_PATTERN, TASK_CLASSES, type TaskClass } from '@danube/core';
import type {
  V1LocalObjectReference,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from './kubernetes-types';

/**
 * A pod-spec override, in the spirit of Argo's podSpecPatch but limited to the fields a
 * cluster operator needs: where pods may run, how images are pulled, what they may mount.
 * Applied defaults < task class < topic: maps merge, lists append, single values replace.
 */
export interface PodOverride {
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: V1LocalObjectReference[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  securityContext?: V1PodSecurityContext;
  hostNetwork?: boolean;
  /** Extra volumes for the pod, mounted into the job's container with volumeMounts. */
  volumes?: V1Volume[];
  volumeMounts?: V1VolumeMount[];
  /** The output-collector's container: the fields above do not reach it. */
  collector?: CollectorOverride;
}

export interface CollectorOverride {
  volumeMounts?: V1VolumeMount[];
  resources?: V1ResourceRequirements;
}

/** Where and how a group of jobs runs (all jobs, a task class, or a topic). */
export interface Placement {
  pod?: PodOverride;
  /** host:port of the JobService as pods reach it (the collector and the SDK use it). */
  grpcAddress?: string;
}

export interface TaskClassPlacement extends Placement {
  resources?: V1ResourceRequirements;
}

/** The document in K8S_RUNTIME_CONFIG (a YAML or JSON file) or K8S_RUNTIME_CONFIG_JSON. */
export interface KubernetesRuntimeDocument {
  defaults?: Placement & {
    /** Image for jobs that name none; without it such jobs fail as permanent. */
    image?: string;
    ttlSecondsAfterFinished?: number;
    terminationGracePeriodSeconds?: number;
    unschedulableTimeoutSeconds?: number;
    /** How many of this executor's pods may wait for a node at once (DEFAULT_MAX_PENDING_JOBS). */
    maxPendingJobs?: number;
  };
  taskClasses?: Partial<Record<TaskClass, TaskClassPlacement>>;
  topics?: Record<string, Placement>;
}

/** Everything the Kubernetes runtime runs with, after defaults. */
export interface KubernetesRuntimeOptions {
  namespace: string;
  /** true: the pod's service account; false: KUBECONFIG or ~/.kube/config. */
  inCluster: boolean;
  collectorImage: string;
  /** Where pods reach the JobService and the REST API, unless a placement says otherwise. */
  grpcAddress: string;
  apiUrl: string;
  defaultImage: string | null;
  ttlSecondsAfterFinished: number;
  terminationGracePeriodSeconds: number;
  /**
   * How long a pod may stay unschedulable before the executor asks whether any node could
   * ever take it (see NodeFit): if none could, the attempt fails; if one could, it waits on.
   */
  unschedulableTimeoutSeconds: number;
  /**
   * How many of this executor's attempts may wait for their pod to start at once (Pending:
   * waiting for a node, pulling an image). The executor claims no more until one starts,
   * so that jobs the cluster has no room for stay queued in Postgres, where other executors
   * can take them and GET /v1/jobs/{id}/why can explain them.
   */
  maxPendingJobs: number;
  defaults: Placement;
  taskClasses: Partial<Record<TaskClass, TaskClassPlacement>>;
  topics: Record<string, Placement>;
  /** The topics this executor serves (null: all): its pod watch sees only theirs. */
  servedTopics: string[] | null;
}

export const DEFAULT_MAX_PENDING_JOBS = 20;

/** Task classes' resources when the configuration gives none. */
export const DEFAULT_TASK_CLASSES: Readonly<
  Record<'cpu_short' | 'cpu_long' | 'gpu', TaskClassPlacement>
> = {
  cpu_short: {
    resources: {
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    },
  },
  cpu_long: {
    resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } },
  },
  gpu: {
    resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '16Gi' } },
  },
};

const OVERRIDE_FIELDS = new Set([
  'imagePullPolicy',
  'imagePullSecrets',
  'serviceAccountName',
  'nodeSelector',
  'tolerations',
  'securityContext',
  'hostNetwork',
  'volumes',
  'volumeMounts',
  'collector',
]);

export class KubernetesConfigError extends Error {}

/** Reads the runtime document from a file path or inline JSON; an empty document if neither. */
export function readRuntimeDocument(
  path: string | undefined,
  inlineJson: string | undefined,
): KubernetesRuntimeDocument {
  if (path && inlineJson)
    throw new KubernetesConfigError('set K8S_RUNTIME_CONFIG or K8S_RUNTIME_CONFIG_JSON, not both');
  let text: string;
  let source: string;
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new KubernetesConfigError(
        `K8S_RUNTIME_CONFIG: cannot read ${path}: ${(error as Error).message}`,
      );
    }
    source = `K8S_RUNTIME_CONFIG (${path})`;
  } else if (inlineJson) {
    text = inlineJson;
    source = 'K8S_RUNTIME_CONFIG_JSON';
  } else {
    return {};
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new KubernetesConfigError(
      `${source} is not valid YAML/JSON: ${(error as Error).message}`,
    );
  }
  checkDocument(document ?? {}, source);
  return (document ?? {}) as KubernetesRuntimeDocument;
}

/**
 * Checks the document's shape and names the first bad field. Field contents (a toleration,
 * a volume) are checked against the Kubernetes schemas when the executor starts, on the
 * manifests it would create (see validateRuntimeOptions).
 */
function checkDocument(document: unknown, source: string): void {
  const fail = (field: string, problem: string): never => {
    throw new KubernetesConfigError(`${source}: ${field} ${problem}`);
  };
  if (!isObject(document))
    fail('the document', 'must be a mapping with defaults, taskClasses, topics');
  const doc = document as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!['defaults', 'taskClasses', 'topics'].includes(key))
      fail(key, 'is not a known section; use defaults, taskClasses or topics');
  }
  if (doc.defaults !== undefined) {
    if (!isObject(doc.defaults)) fail('defaults', 'must be a mapping');
    const defaults = doc.defaults as Record<string, unknown>;
    for (const [key, value] of Object.entries(defaults)) {
      if (key === 'image') {
        if (typeof value !== 'string' || value === '')
          fail('defaults.image', 'must be an image name');
      } else if (
        [
          'ttlSecondsAfterFinished',
          'terminationGracePeriodSeconds',
          'unschedulableTimeoutSeconds',
        ].includes(key)
      ) {
        if (!Number.isInteger(value) || (value as number) < 0)
          fail(`defaults.${key}`, 'must be a whole number of seconds');
      } else if (key === 'maxPendingJobs') {
        if (!Number.isInteger(value) || (value as number) < 1)
          fail(`defaults.${key}`, 'must be a whole number, at least 1');
      } else if (key !== 'pod' && key !== 'grpcAddress') {
        fail(`defaults.${key}`, 'is not a known setting');
      }
    }
    checkPlacement(defaults, 'defaults', fail);
  }
  if (doc.taskClasses !== undefined) {
    if (!isObject(doc.taskClasses))
      fail('taskClasses', 'must be a mapping of task class to settings');
    for (const [name, placement] of Object.entries(doc.taskClasses as Record<string, unknown>)) {
      const field = `taskClasses.${name}`;
      if (!(TASK_CLASSES as readonly string[]).includes(name))
        fail(field, `is not a task class; use ${TASK_CLASSES.join(', ')}`);
      if (!isObject(placement)) fail(field, 'must be a mapping with resources, pod, grpcAddress');
      const p = placement as Record<string, unknown>;
      for (const key of Object.keys(p)) {
        if (!['resources', 'pod', 'grpcAddress'].includes(key))
          fail(`${field}.${key}`, 'is not a known setting; use resources, pod or grpcAddress');
      }
      if (p.resources !== undefined) checkResources(p.resources, `${field}.resources`, fail);
      checkPlacement(p, field, fail);
    }
  }
  if (doc.topics !== undefined) {
    if (!isObject(doc.topics)) fail('topics', 'must be a mapping of topic to settings');
    for (const [name, placement] of Object.entries(doc.topics as Record<string, unknown>)) {
      const field = `topics.${name}`;
      if (!isObject(placement)) fail(field, 'must be a mapping with pod, grpcAddress');
      const p = placement as Record<string, unknown>;
      for (const key of Object.keys(p)) {
        if (!['pod', 'grpcAddress'].includes(key))
          fail(`${field}.${key}`, 'is not a known setting; use pod or grpcAddress');
      }
      checkPlacement(p, field, fail);
    }
  }
}

function checkPlacement(
  placement: Record<string, unknown>,
  field: string,
  fail: (field: string, problem: string) => never,
): void {
  if (placement.grpcAddress !== undefined) {
    if (
      typeof placement.grpcAddress !== 'string' ||
      !/^[^\s/]+:\d{1,5}$/.test(placement.grpcAddress)
    )
      fail(`${field}.grpcAddress`, 'must be host:port');
  }
  if (placement.pod === undefined) return;
  if (!isObject(placement.pod)) fail(`${field}.pod`, 'must be a mapping');
  for (const key of Object.keys(placement.pod as object)) {
    if (!OVERRIDE_FIELDS.has(key))
      fail(
        `${field}.pod.${key}`,
        `cannot be overridden; the pod override takes ${[...OVERRIDE_FIELDS].join(', ')}`,
      );
  }
  const collector = (placement.pod as Record<string, unknown>).collector;
  if (collector !== undefined) {
    if (!isObject(collector)) fail(`${field}.pod.collector`, 'must be a mapping');
    for (const key of Object.keys(collector as object)) {
      if (key !== 'volumeMounts' && key !== 'resources')
        fail(
          `${field}.pod.collector.${key}`,
          'is not a collector setting; use volumeMounts or resources',
        );
    }
    const { resources } = collector as Record<string, unknown>;
    if (resources !== undefined)
      checkResources(resources, `${field}.pod.collector.resources`, fail);
  }
}

function checkResources(
  resources: unknown,
  field: string,
  fail: (field: string, problem: string) => never,
): void {
  if (!isObject(resources)) fail(field, 'must be a mapping with requests and/or limits');
  for (const [section, values] of Object.entries(resources as Record<string, unknown>)) {
    if (section !== 'requests' && section !== 'limits')
      fail(`${field}.${section}`, 'is not a resources section; use requests or limits');
    if (!isObject(values)) fail(`${field}.${section}`, 'must be a mapping of resource to quantity');
    for (const [name, quantity] of Object.entries(values as Record<string, unknown>)) {
      if (name === GPU_RESOURCE)
        fail(
          `${field}.${section}.${name}`,
          'is set by Danube: the gpu task class asks for exactly one GPU per attempt, the others for none',
        );
      if (typeof quantity !== 'string' || !QUANTITY_PATTERN.test(quantity))
        fail(`${field}.${section}.${name}`, 'must be a quantity string such as "500m" or "1Gi"');
    }
  }
}

export const GPU_RESOURCE = 'nvidia.com/gpu';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
