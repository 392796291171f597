/**
 * Task classes say what kind of slot a job needs and bound how long it may run.
 * The Kubernetes runtime maps them to resources; every runtime enforces the time bound.
 */
export const TASK_CLASSES = ['cpu_short', 'cpu_long', 'gpu', 'gpu_slurm'] as const;

export type TaskClass = (typeof TASK_CLASSES)[number];

export interface TaskClassLimits {
  /** Longest timeoutSeconds a job of this class may ask for; also its default. */
  maxTimeoutSeconds: number;
}

export const TASK_CLASS_LIMITS: Readonly<Record<TaskClass, TaskClassLimits>> = {
  cpu_short: { maxTimeoutSeconds: 60 },
  cpu_long: { maxTimeoutSeconds: 15 * 60 },
  gpu: { maxTimeoutSeconds: 10 * 60 },
  gpu_slurm: { maxTimeoutSeconds: 24 * 60 * 60 },
};
