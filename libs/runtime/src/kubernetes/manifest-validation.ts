import { Job } from 'kubernetes-models/batch/v1/Job';
import { TASK_CLASSES, type ClaimedJob, type TaskClass } from '@danube/core';
import { buildJobManifest } from './job-manifest';
import { KubernetesConfigError, type KubernetesRuntimeOptions } from './kubernetes-runtime.config';
import type { V1Job } from './kubernetes-types';

/** Checks a Job manifest against the Kubernetes schemas; throws with every problem named. */
export function validateJobManifest(manifest: V1Job): void {
  new Job(manifest as ConstructorParameters<typeof Job>[0]).validate();
}

/**
 * Builds the Job that every configured combination (task class x topic override) would
 * create, and validates each, so that a bad override (a misspelt toleration field, a
 * volume without a source) stops the executor at start, not every job at run time.
 */
export function validateRuntimeOptions(options: KubernetesRuntimeOptions): void {
  const classes = TASK_CLASSES.filter(
    (c) => c !== 'gpu_slurm' || options.taskClasses.gpu_slurm !== undefined,
  );
  const topics = [null, ...Object.keys(options.topics)];
  for (const taskClass of classes) {
    for (const topic of topics) {
      const job = sampleJob(taskClass, topic ?? 'any-topic');
      try {
        validateJobManifest(
          buildJobManifest(
            { job, attempt: 1, env: { DANUBE_JOB_TOKEN: 'token' } },
            { ...options, defaultImage: options.defaultImage ?? 'image' },
          ),
        );
      } catch (error) {
        throw new KubernetesConfigError(
          `the Job of a ${taskClass} job${topic ? ` on topic ${topic}` : ''} would be invalid: ${(error as Error).message}`,
        );
      }
    }
  }
}

function sampleJob(taskClass: TaskClass, topic: string): ClaimedJob {
  return {
    id: '1',
    tenant: 'default',
    topic,
    taskClass,
    priority: 0,
    runAt: new Date(),
    attempts: 1,
    maxAttempts: 1,
    timeoutSeconds: 60,
    spec: {
      command: ['true'],
      env: {},
      backoff: { initialSeconds: 1, factor: 2, maxSeconds: 1 },
      noRetryExitCodes: [],
    },
    labels: {},
    runtimeRef: null,
    startedAt: null,
    startedBy: null,
    leaseToken: '00000000-0000-0000-0000-000000000000',
    workflowId: null,
    nodeName: null,
  };
}
