import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadConfig } from '@danube/core';
import {
  DEFAULT_MAX_PENDING_JOBS,
  readRuntimeDocument,
  validateRuntimeOptions,
  type KubernetesRuntimeOptions,
} from '@danube/runtime';
import { loadKeyring, type Keyring } from '@danube/secrets';

export const RUNTIME_NAMES = ['process', 'kubernetes', 'inline'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** The executor's environment, one property per variable; validated at start. */
export class ExecutorEnv {
  @IsString()
  @Matches(/^(ALL|[A-Za-z0-9][A-Za-z0-9_.:-]*(\s*,\s*[A-Za-z0-9][A-Za-z0-9_.:-]*)*)$/, {
    message: 'EXECUTOR_TOPICS must be ALL or a comma-separated list of topic names',
  })
  EXECUTOR_TOPICS = 'ALL';

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_POLL_INTERVAL_MS must be a whole number of milliseconds' })
  @Min(10)
  @Max(3_600_000)
  EXECUTOR_POLL_INTERVAL_MS = 5000;

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_BATCH_SIZE must be a whole number' })
  @Min(1)
  @Max(1000)
  EXECUTOR_BATCH_SIZE = 5;

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_CONCURRENCY must be a whole number' })
  @Min(1)
  @Max(100_000)
  EXECUTOR_CONCURRENCY = 10;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/, {
    message: 'EXECUTOR_INSTANCE_ID must be 1-200 letters, digits or _ . : @ -',
  })
  EXECUTOR_INSTANCE_ID?: string;

  @IsIn(RUNTIME_NAMES, { message: `DANUBE_RUNTIME must be one of ${RUNTIME_NAMES.join(', ')}` })
  DANUBE_RUNTIME: RuntimeName = 'process';

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_LEASE_MS must be a whole number of milliseconds' })
  @Min(1000)
  EXECUTOR_LEASE_MS = 30_000;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_HEARTBEAT_MS must be a whole number of milliseconds' })
  @Min(100)
  EXECUTOR_HEARTBEAT_MS?: number;

  /**
   * How long before its lease could run out a job whose lease was not renewed is killed
   * (default: 2 s, or a fifth of the lease if that is shorter).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_FENCE_MARGIN_MS must be a whole number of milliseconds' })
  @Min(100)
  EXECUTOR_FENCE_MARGIN_MS?: number;

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_REAP_INTERVAL_MS must be a whole number of milliseconds' })
  @Min(100)
  EXECUTOR_REAP_INTERVAL_MS = 5000;

  /**
   * How long a stopped or lost executor stays listed (GET /v1/executors) before the reaper
   * forgets it. The records of the attempts it ran keep its name.
   */
  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_PRUNE_AFTER_MS must be a whole number of milliseconds' })
  @Min(1000)
  EXECUTOR_PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000;

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_SHUTDOWN_GRACE_MS must be a whole number of milliseconds' })
  @Min(0)
  EXECUTOR_SHUTDOWN_GRACE_MS = 30_000;

  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_KILL_GRACE_MS must be a whole number of milliseconds' })
  @Min(0)
  EXECUTOR_KILL_GRACE_MS = 2000;

  @IsOptional()
  @IsString()
  DANUBE_WORK_DIR?: string;

  @IsIn(['true', 'false'], { message: 'DANUBE_KEEP_WORK_DIRS must be true or false' })
  DANUBE_KEEP_WORK_DIRS = 'false';

  /** Where jobs reach the JobService; passed to them as DANUBE_GRPC_ADDRESS. */
  @Matches(/^[^\s/]+:\d{1,5}$/, {
    message: 'DANUBE_GRPC_ADDRESS must be host:port, such as 127.0.0.1:9000',
  })
  DANUBE_GRPC_ADDRESS = '127.0.0.1:9000';

  /** Where jobs reach the REST API; passed to them as DANUBE_API_URL. */
  @Matches(/^https?:\/\/\S+$/, { message: 'DANUBE_API_URL must be an http(s):// URL' })
  DANUBE_API_URL = 'http://127.0.0.1:3000';

  /** The executor's own HTTP server: /metrics, /healthz, /readyz (0: any free port). */
  @Type(() => Number)
  @IsInt({ message: 'EXECUTOR_HTTP_PORT must be a whole number' })
  @Min(0)
  @Max(65535)
  EXECUTOR_HTTP_PORT = 3001;

  @IsString()
  EXECUTOR_HTTP_HOST = '127.0.0.1';

  /** Signs job tokens and decrypts secrets; the API must have the same keys. */
  @IsOptional()
  @IsString()
  DANUBE_SECRET_KEY?: string;

  // ---- the kubernetes runtime ----

  /** Where attempts' Jobs are created. */
  @Matches(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
    message: 'K8S_NAMESPACE must be a Kubernetes namespace name (lowercase letters, digits, -)',
  })
  K8S_NAMESPACE = 'danube-jobs';

  /** true: the pod's service account; false: KUBECONFIG or ~/.kube/config. */
  @IsIn(['true', 'false'], { message: 'K8S_IN_CLUSTER must be true or false' })
  K8S_IN_CLUSTER = 'false';

  @IsString()
  @Matches(/^\S+$/, { message: 'OUTPUT_COLLECTOR_IMAGE must be an image name' })
  OUTPUT_COLLECTOR_IMAGE = 'danube:0.1.0';

  /** host:port of the JobService as pods reach it; default DANUBE_GRPC_ADDRESS. */
  @IsOptional()
  @Matches(/^[^\s/]+:\d{1,5}$/, {
    message:
      'K8S_GRPC_ADDRESS must be host:port of the JobService as pods reach it, such as danube-api.danube:9000',
  })
  K8S_GRPC_ADDRESS?: string;

  /** A YAML or JSON file: task classes, per-topic pod overrides (see README). */
  @IsOptional()
  @IsString()
  K8S_RUNTIME_CONFIG?: string;

  /** The same document inline. */
  @IsOptional()
  @IsString()
  K8S_RUNTIME_CONFIG_JSON?: string;
}

/** What the executor runs with, after defaults and derived values. */
export interface ExecutorOptions {
  instanceId: string;
  /** null: every topic. */
  topics: string[] | null;
  pollIntervalMs: number;
  batchSize: number;
  concurrency: number;
  runtime: RuntimeName;
  leaseMs: number;
  heartbeatMs: number;
  /**
   * An attempt whose lease was last renewed (or claimed) at t is killed at
   * t + leaseMs - fenceMarginMs unless renewed again: before any other executor can take it.
   */
  fenceMarginMs: number;
  reapIntervalMs: number;
  /** Stopped or lost executors older than this are forgotten by the reaper. */
  pruneExecutorsAfterMs: number;
  shutdownGraceMs: number;
  killGraceMs: number;
  workDir: string;
  keepWorkDirs: boolean;
  grpcAddress: string;
  apiUrl: string;
  httpPort: number;
  httpHost: string;
  /** null without DANUBE_SECRET_KEY: jobs get no DANUBE_JOB_TOKEN and cannot use secrets. */
  keyring: Keyring | null;
  /** Set when runtime is kubernetes. */
  kubernetes: KubernetesRuntimeOptions | null;
}

/** Variables renamed so that names say what they hold; the old names still work, with a warning. */
const RENAMED = {
  EXECUTOR_POLL_INTERVAL: 'EXECUTOR_POLL_INTERVAL_MS',
  API_SERVICE_URL: 'K8S_GRPC_ADDRESS',
};

export function loadExecutorOptions(env: NodeJS.ProcessEnv = process.env): ExecutorOptions {
  const e = loadConfig(ExecutorEnv, env, RENAMED);
  const topics =
    e.EXECUTOR_TOPICS.trim() === 'ALL' ? null : e.EXECUTOR_TOPICS.split(',').map((t) => t.trim());
  const heartbeatMs = e.EXECUTOR_HEARTBEAT_MS ?? Math.floor(e.EXECUTOR_LEASE_MS / 3);
  const fenceMarginMs =
    e.EXECUTOR_FENCE_MARGIN_MS ?? Math.min(2000, Math.floor(e.EXECUTOR_LEASE_MS / 5));
  if (heartbeatMs + fenceMarginMs >= e.EXECUTOR_LEASE_MS) {
    throw new Error(
      `invalid configuration: EXECUTOR_HEARTBEAT_MS (${heartbeatMs}) plus EXECUTOR_FENCE_MARGIN_MS (${fenceMarginMs}) must be shorter than EXECUTOR_LEASE_MS (${e.EXECUTOR_LEASE_MS}), or jobs are killed between renewals`,
    );
  }
  const keyring = loadKeyring(e.DANUBE_SECRET_KEY);
  return {
    instanceId: e.EXECUTOR_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    topics,
    pollIntervalMs: e.EXECUTOR_POLL_INTERVAL_MS,
    batchSize: e.EXECUTOR_BATCH_SIZE,
    concurrency: e.EXECUTOR_CONCURRENCY,
    runtime: e.DANUBE_RUNTIME,
    leaseMs: e.EXECUTOR_LEASE_MS,
    heartbeatMs,
    fenceMarginMs,
    reapIntervalMs: e.EXECUTOR_REAP_INTERVAL_MS,
    pruneExecutorsAfterMs: e.EXECUTOR_PRUNE_AFTER_MS,
    shutdownGraceMs: e.EXECUTOR_SHUTDOWN_GRACE_MS,
    killGraceMs: e.EXECUTOR_KILL_GRACE_MS,
    workDir: e.DANUBE_WORK_DIR ?? join(tmpdir(), 'danube-work'),
    keepWorkDirs: e.DANUBE_KEEP_WORK_DIRS === 'true',
    grpcAddress: e.DANUBE_GRPC_ADDRESS,
    httpPort: e.EXECUTOR_HTTP_PORT,
    httpHost: e.EXECUTOR_HTTP_HOST,
    apiUrl: e.DANUBE_API_URL,
    keyring,
    kubernetes: e.DANUBE_RUNTIME === 'kubernetes' ? kubernetesOptions(e, topics, keyring) : null,
  };
}

function kubernetesOptions(
  e: ExecutorEnv,
  servedTopics: string[] | null,
  keyring: Keyring | null,
): KubernetesRuntimeOptions {
  if (!keyring) {
    throw new Error(
      "invalid configuration: DANUBE_RUNTIME=kubernetes needs DANUBE_SECRET_KEY (the same as the API's): the output-collector uploads with job tokens signed by it",
    );
  }
  let document;
  try {
    document = readRuntimeDocument(e.K8S_RUNTIME_CONFIG, e.K8S_RUNTIME_CONFIG_JSON);
  } catch (error) {
    throw new Error(`invalid configuration: ${(error as Error).message}`);
  }
  const { defaults = {} } = document;
  const options: KubernetesRuntimeOptions = {
    namespace: e.K8S_NAMESPACE,
    inCluster: e.K8S_IN_CLUSTER === 'true',
    collectorImage: e.OUTPUT_COLLECTOR_IMAGE,
    grpcAddress: e.K8S_GRPC_ADDRESS ?? e.DANUBE_GRPC_ADDRESS,
    apiUrl: e.DANUBE_API_URL,
    defaultImage: defaults.image ?? null,
    ttlSecondsAfterFinished: defaults.ttlSecondsAfterFinished ?? 3600,
    terminationGracePeriodSeconds: defaults.terminationGracePeriodSeconds ?? 60,
    unschedulableTimeoutSeconds: defaults.unschedulableTimeoutSeconds ?? 300,
    maxPendingJobs: defaults.maxPendingJobs ?? DEFAULT_MAX_PENDING_JOBS,
    defaults: { pod: defaults.pod, grpcAddress: defaults.grpcAddress },
    taskClasses: document.taskClasses ?? {},
    topics: document.topics ?? {},
    servedTopics,
  };
  try {
    validateRuntimeOptions(options);
  } catch (error) {
    throw new Error(`invalid configuration: ${(error as Error).message}`);
  }
  return options;
}
