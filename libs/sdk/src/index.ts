/**
 * @danube/sdk: for code running inside a Danube job, and for programs that submit jobs.
 *
 *   import { ctx, step, secrets, artifacts, progress, setResult } from '@danube/sdk';
 *   const sum = await step.run(['python3', 'sum.py'], { name: 'sum' });
 *   const password = await secrets.get('db-password');
 *   await artifacts.upload('report.csv');
 *   await progress(50, 'half way');
 *
 * Job calls go to the JobService at DANUBE_GRPC_ADDRESS with the attempt's
 * DANUBE_JOB_TOKEN, both injected by the executor. DanubeClient talks to the REST API.
 */
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import { jobContext, type JobContext } from './context';
import {
  JobServiceClient,
  type DownloadedArtifact,
  type StepOptions,
  type StepResult,
  type UploadedArtifact,
} from './job-service-client';

export * from './context';
export * from './job-service-client';
export * from './rest-client';

let client: JobServiceClient | null = null;

/** The process's JobService client, made on first use from the injected variables. */
export function jobService(): JobServiceClient {
  client ??= JobServiceClient.fromEnv();
  return client;
}

/** This job's id, attempt, topic, labels and workflow context. */
export const ctx: JobContext = jobContext();

export const step = {
  /**
   * Runs `command` (an argv array, or a shell script) as a child job and waits for it.
   * Resolves with how it ended, failures included: check `ok` or `status`.
   */
  run(command: string | string[], options?: StepOptions): Promise<StepResult> {
    return jobService().runStep(command, options);
  },
};

export const secrets = {
  /** A secret this job's spec lists in `secrets`. */
  get(name: string): Promise<string> {
    return jobService().getSecret(name);
  },
};

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
  '.gz': 'application/gzip',
  '.zip': 'application/zip',
};

/** The content type an artifact gets from its file name's extension. */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export const artifacts = {
  /**
   * Uploads the file at `file`. Its artifact path is `options.path`, else its path inside
   * DANUBE_OUTPUT_DIR or the working directory, else its file name.
   */
  upload(
    file: string,
    options: { path?: string; contentType?: string } = {},
  ): Promise<UploadedArtifact> {
    const absolute = resolve(file);
    const within = (dir: string | undefined) => {
      if (!dir) return null;
      const rel = relative(resolve(dir), absolute);
      return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : null;
    };
    const path = options.path ?? within(ctx.outputDir) ?? within(process.cwd()) ?? basename(file);
    return jobService().uploadArtifact(absolute, path, options.contentType ?? contentTypeOf(file));
  },

  /**
   * Downloads artifact `path` of this job, of the workflow parent `fromNode`, or of job
   * `fromJob` (a step this job ran, or the job that ran this one as a step), to `to`
   * (default: its file name in the working directory).
   */
  download(
    path: string,
    options: { fromNode?: string; fromJob?: string; to?: string } = {},
  ): Promise<DownloadedArtifact> {
    if (options.fromNode !== undefined && options.fromJob !== undefined) {
      throw new TypeError('give fromNode or fromJob, not both');
    }
    let fromJob = options.fromJob ?? '';
    if (options.fromNode !== undefined) {
      const parents = ctx.parentJobIds;
      const parent = parents[options.fromNode];
      if (parent === undefined) {
        const names = Object.keys(parents).sort();
        throw new TypeError(
          `"${options.fromNode}" is not a parent of this workflow node; its parents are ${names.length ? names.join(', ') : 'none'}`,
        );
      }
      fromJob = parent;
    }
    return jobService().downloadArtifact(path, resolve(options.to ?? basename(path)), fromJob);
  },
};

/** Sets the job's progress (0-100) and, optionally, its status message. */
export function progress(percent: number, message?: string): Promise<void> {
  return jobService().reportStatus({ progress: percent, message });
}

/** Sets the job's result (any JSON value), shown on GET /v1/jobs/:id and to workflow children. */
export function setResult(result: unknown): Promise<void> {
  return jobService().reportStatus({ result });
}

/** Closes the connection to the JobService (the process can also just exit). */
export function close(): void {
  client?.close();
  client = null;
}
