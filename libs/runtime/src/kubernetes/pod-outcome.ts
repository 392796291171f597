import { exitOutcome, type Outcome } from '@danube/core';
import { COLLECTOR_CONTAINER, MAIN_CONTAINER } from './job-manifest';
import type { V1ContainerStatus, V1Job, V1Pod } from './kubernetes-types';

/** Waiting reasons that no amount of waiting fixes: the image cannot be had. */
const IMAGE_ERRORS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);
/** Waiting reasons that mean the container can never start as specified. */
const CONFIG_ERRORS = new Set(['CreateContainerConfigError', 'CreateContainerError']);
/** Pod-level reasons for a pod that the node or the cluster took away. */
const DISRUPTIONS = new Set([
  'Evicted',
  'NodeLost',
  'Preempting',
  'Shutdown',
  'Terminated',
  'NodeShutdown',
  'UnexpectedAdmissionError',
]);

/** What one look at a pod says about its attempt. */
export type PodReading =
  /**
   * Not ended. `unschedulable` is set while the scheduler cannot place it: since when, and
   * the scheduler's message. Whether to go on waiting is the caller's call (see NodeFit).
   */
  | {
      kind: 'waiting';
      unschedulable: { since: number; message: string } | null;
    }
  /** Ended (or can never run): the outcome, and whether the Job must still be deleted. */
  | { kind: 'ended'; outcome: Outcome; deleteJob: boolean }
  /** Gone or going without a reason of its own: the Job's conditions say why (deadline). */
  | { kind: 'ask-job' };

/** Reads a pod of an attempt's Job. `deleted`: the watch reported the pod gone. */
export function readPod(pod: V1Pod, deleted: boolean, now: number): PodReading {
  const status = pod.status ?? {};
  const main = containerStatus(status.containerStatuses, MAIN_CONTAINER);
  const collector = containerStatus(status.initContainerStatuses, COLLECTOR_CONTAINER);

  const waiting = main?.state?.waiting;
  if (waiting?.reason && IMAGE_ERRORS.has(waiting.reason)) {
    return ended(
      {
        kind: 'failed',
        category: 'permanent',
        message: `image ${main!.image} cannot be pulled (${waiting.reason})${detail(waiting.message)}; check the job's image`,
      },
      true,
    );
  }
  if (waiting?.reason && CONFIG_ERRORS.has(waiting.reason)) {
    return ended(
      {
        kind: 'failed',
        category: 'permanent',
        message: `the job's container cannot be created (${waiting.reason})${detail(waiting.message)}`,
      },
      true,
    );
  }
  const collectorWaiting = collector?.state?.waiting;
  if (
    collectorWaiting?.reason &&
    (IMAGE_ERRORS.has(collectorWaiting.reason) || CONFIG_ERRORS.has(collectorWaiting.reason))
  ) {
    return ended(
      {
        kind: 'failed',
        category: 'infra',
        message: `the output-collector cannot start (${collectorWaiting.reason})${detail(collectorWaiting.message)}; check OUTPUT_COLLECTOR_IMAGE`,
      },
      true,
    );
  }

  const disruption = (status.conditions ?? []).find(
    (c) => c.type === 'DisruptionTarget' && c.status === 'True',
  );
  if (disruption || (status.reason && DISRUPTIONS.has(status.reason))) {
    const reason = status.reason ?? disruption!.reason ?? 'Disrupted';
    const message = status.message ?? disruption?.message;
    return ended(
      {
        kind: 'failed',
        category: 'infra',
        message: `the pod was taken off its node (${reason})${detail(message)}; not the job's fault`,
      },
      true,
    );
  }

  const mainEnd = main?.state?.terminated;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') {
    if (!mainEnd) return { kind: 'ask-job' };
    return ended(judgeMain(mainEnd, collector), false);
  }
  if (deleted || pod.metadata?.deletionTimestamp) return { kind: 'ask-job' };

  const scheduled = (status.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const since = scheduled.lastTransitionTime
      ? new Date(scheduled.lastTransitionTime).getTime()
      : now;
    const message = scheduled.message ?? 'no node fits the pod';
    return { kind: 'waiting', unschedulable: { since, message } };
  }
  return { kind: 'waiting', unschedulable: null };
}

/** Whether the job's container has started, so that its log can be read. */
export function mainHasRun(pod: V1Pod): boolean {
  const state = containerStatus(pod.status?.containerStatuses, MAIN_CONTAINER)?.state;
  return Boolean(state?.running || state?.terminated);
}

/** Whether the job's container runs now (started, not ended). */
export function mainIsRunning(pod: V1Pod): boolean {
  const state = containerStatus(pod.status?.containerStatuses, MAIN_CONTAINER)?.state;
  return Boolean(state?.running && !state.terminated);
}

/**
 * When the job's code started, as near as can be told, never before it: Kubernetes keeps a
 * container's startedAt in whole seconds, so the code started within the second after it.
 * `seenAt`, when this executor saw the container running, bounds it from above. null if
 * the job's container has not started.
 */
export function mainStartedAt(pod: V1Pod, seenAt: number): Date | null {
  const state = containerStatus(pod.status?.containerStatuses, MAIN_CONTAINER)?.state;
  if (!state?.running && !state?.terminated) return null;
  return withinSecond(state.running?.startedAt ?? state.terminated?.startedAt, seenAt);
}

/** When the job's container ended, read as mainStartedAt reads its start; null if it runs. */
export function mainFinishedAt(pod: V1Pod, seenAt: number): Date | null {
  const end = containerStatus(pod.status?.containerStatuses, MAIN_CONTAINER)?.state?.terminated;
  return end ? withinSecond(end.finishedAt, seenAt) : null;
}

/** A whole-second Kubernetes time made precise by when it was seen, never before it. */
function withinSecond(time: Date | string | undefined, seenAt: number): Date {
  if (!time) return new Date(seenAt);
  const second = new Date(time).getTime();
  return new Date(Math.max(second, Math.min(seenAt, second + 999)));
}

/**
 * Why a Job ended when its pod does not say: the deadline, or another Job-level failure.
 * Kubernetes 1.31 and later first set FailureTarget (while the pods are being terminated)
 * and add Failed, with the same reason, only once they are gone; older versions set Failed
 * at once. Either tells.
 */
export function readJobConditions(job: V1Job | null, timeoutSeconds: number): Outcome {
  if (job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'))
    return { kind: 'succeeded', exitCode: 0 };
  const failed = job?.status?.conditions?.find(
    (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
  );
  if (failed?.reason === 'DeadlineExceeded') {
    return {
      kind: 'timed_out',
      message: `ran longer than timeoutSeconds (${timeoutSeconds} s); the Job's activeDeadlineSeconds stopped it`,
    };
  }
  if (failed) {
    return {
      kind: 'failed',
      category: 'infra',
      message: `the Job failed (${failed.reason ?? 'no reason'})${detail(failed.message)}`,
    };
  }
  return {
    kind: 'failed',
    category: 'infra',
    message: job
      ? 'the pod was deleted before the job finished'
      : 'the Job was deleted before the job finished',
  };
}

/** Whether the Job has ended (Complete, Failed, or FailureTarget: failing). */
export function jobHasEnded(job: V1Job): boolean {
  return Boolean(
    job.status?.conditions?.some(
      (c) => ['Complete', 'Failed', 'FailureTarget'].includes(c.type) && c.status === 'True',
    ),
  );
}

function judgeMain(
  end: NonNullable<NonNullable<V1ContainerStatus['state']>['terminated']>,
  collector: V1ContainerStatus | undefined,
): Outcome {
  const main = mainOutcome(end);
  const lost = outputsLost(collector);
  if (!lost) {
    const ignored = resultIgnored(collector);
    return main.kind === 'succeeded' && ignored ? { ...main, warning: ignored } : main;
  }
  if (main.kind === 'succeeded')
    return { kind: 'failed', category: 'infra', exitCode: 0, message: lost };
  return main.kind === 'failed' ? { ...main, message: `${main.message}; ${lost}` } : main;
}

function mainOutcome(
  end: NonNullable<NonNullable<V1ContainerStatus['state']>['terminated']>,
): Outcome {
  const code = end.exitCode;
  if (end.reason === 'OOMKilled') {
    return {
      kind: 'failed',
      category: 'oom',
      exitCode: code,
      message:
        'ran out of memory (OOMKilled); raise resources.limits.memory or pick a larger task class',
    };
  }
  const cannotRun =
    end.reason === 'StartError' || end.reason === 'ContainerCannotRun'
      ? `${end.reason}${detail(end.message)}`
      : null;
  return exitOutcome({
    code,
    signal: end.signal ? String(end.signal) : null,
    cannotRun,
    alsoCheck: 'image',
  });
}

/** Why the job's outputs did not arrive, or null if the collector delivered them. */
function outputsLost(collector: V1ContainerStatus | undefined): string | null {
  const end = collector?.state?.terminated;
  if (!end) return 'the output-collector never ran, so the outputs were not collected';
  if (end.exitCode === 0) return null;
  const why = end.message?.trim().split('\n').at(-1);
  return `outputs lost: the output-collector exited with code ${end.exitCode}${why ? `: ${why}` : ''}`;
}

/**
 * Why the collector ignored the job's result file, from its last line (its termination
 * message, which it writes also when it exits 0), or null.
 */
function resultIgnored(collector: V1ContainerStatus | undefined): string | null {
  const line = collector?.state?.terminated?.message?.trim().split('\n').at(-1) ?? '';
  const why = /ignored the result file \((.*)\) in \d/.exec(line)?.[1];
  return why ? `the result file was ignored: ${why}` : null;
}

function containerStatus(
  statuses: V1ContainerStatus[] | undefined,
  name: string,
): V1ContainerStatus | undefined {
  return statuses?.find((s) => s.name === name);
}

function ended(outcome: Outcome, deleteJob: boolean): PodReading {
  return { kind: 'ended', outcome, deleteJob };
}

function detail(message: string | undefined): string {
  return message ? `: ${message.trim()}` : '';
}
