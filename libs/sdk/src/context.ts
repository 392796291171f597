/** What the runtime tells a job about itself, read from the variables it injects. */
export interface JobContext {
  /** DANUBE_JOB_ID */
  readonly jobId: string;
  /** DANUBE_ATTEMPT: 1 for the first attempt. */
  readonly attempt: number;
  /** DANUBE_TOPIC */
  readonly topic: string;
  /** DANUBE_LABELS, the job's labels. */
  readonly labels: Record<string, string>;
  /** DANUBE_OUTPUT_DIR: files left here are collected as artifacts by runtimes that do so. */
  readonly outputDir: string | undefined;
  /** In a workflow: its id, this node's name, and the parents' results and job ids by node name. */
  readonly workflowId: string | undefined;
  readonly nodeName: string | undefined;
  readonly parentResults: Record<string, unknown>;
  readonly parentJobIds: Record<string, string>;
}

/** Thrown when the SDK is used outside a job, or the runtime left out what it needs. */
export class NotInAJobError extends Error {}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new NotInAJobError(
      `${name} is not set: @danube/sdk's job calls work inside a job run by a Danube executor`,
    );
  }
  return value;
}

function json<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const value = env[name];
  return value ? (JSON.parse(value) as T) : fallback;
}

/** The job context of `env`; every property is read when asked for, so importing is free. */
export function jobContext(env: NodeJS.ProcessEnv = process.env): JobContext {
  return {
    get jobId() {
      return required(env, 'DANUBE_JOB_ID');
    },
    get attempt() {
      return Number(required(env, 'DANUBE_ATTEMPT'));
    },
    get topic() {
      return required(env, 'DANUBE_TOPIC');
    },
    get labels() {
      return json<Record<string, string>>(env, 'DANUBE_LABELS', {});
    },
    get outputDir() {
      return env.DANUBE_OUTPUT_DIR;
    },
    get workflowId() {
      return env.DANUBE_WORKFLOW_ID;
    },
    get nodeName() {
      return env.DANUBE_NODE_NAME;
    },
    get parentResults() {
      return json<Record<string, unknown>>(env, 'DANUBE_PARENT_RESULTS', {});
    },
    get parentJobIds() {
      return json<Record<string, string>>(env, 'DANUBE_PARENT_JOB_IDS', {});
    },
  };
}
