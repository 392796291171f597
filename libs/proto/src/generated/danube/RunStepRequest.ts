// Original file: proto/danube.proto

export interface RunStepRequest {
  jobId?: string;
  /**
   * What to run: an argv array, or a shell script run by /bin/sh -c (exactly one).
   */
  command?: string[];
  script?: string;
  env?: { [key: string]: string };
  /**
   * Container image, for runtimes that use one; empty: the parent's.
   */
  image?: string;
  /**
   * Shown in the job's history and the workflow graph; empty: step-<n>.
   */
  name?: string;
  /**
   * 0: the parent's timeout.
   */
  timeoutSeconds?: number;
  /**
   * Empty: the parent's topic.
   */
  topic?: string;
  /**
   * Chosen by the caller once per step and sent again on retries, so that a retried
   * call waits for the step it already started instead of starting another.
   */
  requestId?: string;
}

export interface RunStepRequest__Output {
  jobId: string;
  /**
   * What to run: an argv array, or a shell script run by /bin/sh -c (exactly one).
   */
  command: string[];
  script: string;
  env: { [key: string]: string };
  /**
   * Container image, for runtimes that use one; empty: the parent's.
   */
  image: string;
  /**
   * Shown in the job's history and the workflow graph; empty: step-<n>.
   */
  name: string;
  /**
   * 0: the parent's timeout.
   */
  timeoutSeconds: number;
  /**
   * Empty: the parent's topic.
   */
  topic: string;
  /**
   * Chosen by the caller once per step and sent again on retries, so that a retried
   * call waits for the step it already started instead of starting another.
   */
  requestId: string;
}
