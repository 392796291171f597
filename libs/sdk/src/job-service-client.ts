import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import {
  loadJobServiceProto,
  type DownloadArtifactResponse__Output,
  type JobServiceClient as GeneratedClient,
  type RunStepResponse__Output,
  type UploadArtifactResponse__Output,
} from '@danube/proto';
import { NotInAJobError } from './context';

/** A JobService call that failed; `code` is the gRPC status (grpc.status). */
export class JobServiceError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'JobServiceError';
  }
}

export interface RetryPolicy {
  /** Calls refused with UNAVAILABLE are tried again, this many times in all. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 200, maxDelayMs: 5000 };
const CHUNK_BYTES = 256 * 1024;

export interface StepOptions {
  env?: Record<string, string>;
  image?: string;
  /** Shown in the history and the workflow graph. */
  name?: string;
  timeoutSeconds?: number;
  /** Default: this job's topic. */
  topic?: string;
}

export interface StepResult {
  jobId: string;
  /** succeeded, failed, timed_out or cancelled. */
  status: string;
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  errorMessage: string;
  result: unknown;
}

export interface UploadedArtifact {
  artifactId: string;
  size: number;
  sha256: string;
}

export interface DownloadedArtifact {
  artifactId: string;
  /** The job that uploaded it, and the attempt. */
  jobId: string;
  attempt: number;
  path: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Where the bytes were written. */
  file: string;
}

/**
 * The JobService, as seen from inside one attempt: every call carries the attempt's job
 * id and token; calls refused with UNAVAILABLE (API restarting, database unreachable)
 * are retried with exponential backoff. RunStep and UploadArtifact are safe to retry:
 * a retried step finds the one already started, a re-uploaded path replaces itself.
 */
export class JobServiceClient {
  private client: GeneratedClient | null = null;

  constructor(
    private readonly options: {
      address: string;
      jobId: string;
      token: string;
      retry?: RetryPolicy;
      /**
       * No call runs past this instant: one still waiting then ends with DEADLINE_EXCEEDED
       * (for callers that must finish in time, such as the output-collector).
       */
      deadline?: Date;
      /** grpc-js channel options over the defaults below (reconnect backoff, say). */
      channelOptions?: grpc.ChannelOptions;
    },
  ) {}

  /** From the variables the executor injects (DANUBE_GRPC_ADDRESS, _JOB_ID, _JOB_TOKEN). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): JobServiceClient {
    const get = (name: string) => {
      const value = env[name];
      if (!value) {
        throw new NotInAJobError(
          `${name} is not set: the JobService is reachable from jobs run by a Danube executor that has DANUBE_SECRET_KEY`,
        );
      }
      return value;
    };
    return new JobServiceClient({
      address: get('DANUBE_GRPC_ADDRESS'),
      jobId: get('DANUBE_JOB_ID'),
      token: get('DANUBE_JOB_TOKEN'),
    });
  }

  async runStep(command: string | string[], options: StepOptions = {}): Promise<StepResult> {
    const requestId = randomUUID();
    const response = await this.unary<RunStepResponse__Output>('runStep', {
      jobId: this.options.jobId,
      ...(typeof command === 'string' ? { script: command } : { command }),
      env: options.env ?? {},
      image: options.image ?? '',
      name: options.name ?? '',
      timeoutSeconds: options.timeoutSeconds ?? 0,
      topic: options.topic ?? '',
      requestId,
    });
    return {
      jobId: response.stepJobId,
      status: response.status,
      ok: response.status === 'succeeded',
      exitCode: response.exitCode ?? null,
      stdout: response.stdout,
      stderr: response.stderr,
      stdoutTruncated: response.stdoutTruncated,
      stderrTruncated: response.stderrTruncated,
      errorMessage: response.errorMessage,
      result: response.resultJson === '' ? null : JSON.parse(response.resultJson),
    };
  }

  async getSecret(name: string): Promise<string> {
    const response = await this.unary<{ value: string }>('getSecret', {
      jobId: this.options.jobId,
      name,
    });
    return response.value;
  }

  async reportStatus(report: { progress?: number; message?: string; result?: unknown }) {
    await this.unary('reportStatus', {
      jobId: this.options.jobId,
      ...(report.progress !== undefined && { progress: report.progress }),
      message: report.message ?? '',
      resultJson: report.result === undefined ? '' : JSON.stringify(report.result),
    });
  }

  /** Streams the file at `file` as artifact `path` (checked against its sha256 on arrival). */
  async uploadArtifact(
    file: string,
    path: string,
    contentType = 'application/octet-stream',
  ): Promise<UploadedArtifact> {
    const { size } = await stat(file);
    const sha256 = await sha256Of(file);
    return this.withRetry(() => this.uploadOnce(file, { path, contentType, size, sha256 }));
  }

  /**
   * Writes artifact `path` of job `fromJobId` (default: this job) to `file`. The file
   * appears whole or not at all, and only if its size and sha256 check out.
   */
  async downloadArtifact(path: string, file: string, fromJobId = ''): Promise<DownloadedArtifact> {
    return this.withRetry(() => this.downloadOnce(path, file, fromJobId));
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }

  private connect(): GeneratedClient {
    if (!this.client) {
      const { danube } = loadJobServiceProto();
      this.client = new danube.JobService(this.options.address, grpc.credentials.createInsecure(), {
        // Steps can run for hours: keep the connection alive and notice when it dies.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.max_receive_message_length': 8 * 1024 * 1024,
        ...this.options.channelOptions,
      });
    }
    return this.client;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  private callOptions(): grpc.CallOptions {
    return this.options.deadline ? { deadline: this.options.deadline } : {};
  }

  private unary<T>(method: 'runStep' | 'getSecret' | 'reportStatus', request: object): Promise<T> {
    return this.withRetry(
      () =>
        new Promise<T>((resolve, reject) => {
          const client = this.connect() as unknown as Record<
            string,
            (
              request: object,
              metadata: grpc.Metadata,
              options: grpc.CallOptions,
              callback: (error: grpc.ServiceError | null, response?: T) => void,
            ) => void
          >;
          client[method]!.call(
            this.connect(),
            request,
            this.metadata(),
            this.callOptions(),
            (error, response) => (error ? reject(error) : resolve(response as T)),
          );
        }),
    );
  }

  private uploadOnce(
    file: string,
    header: { path: string; contentType: string; size: number; sha256: string },
  ): Promise<UploadedArtifact> {
    return new Promise((resolve, reject) => {
      const call = this.connect().uploadArtifact(
        this.metadata(),
        this.callOptions(),
        (error: grpc.ServiceError | null, response?: UploadArtifactResponse__Output) =>
          error
            ? reject(error)
            : resolve({
                artifactId: response!.artifactId,
                size: Number(response!.size),
                sha256: response!.sha256,
              }),
      );
      call.write({ header: { jobId: this.options.jobId, ...header } });
      const source = createReadStream(file, { highWaterMark: CHUNK_BYTES });
      source.on('data', (chunk) => {
        // Respect the call's flow control: pause the file until the stream drains.
        if (!call.write({ chunk })) {
          source.pause();
          call.once('drain', () => source.resume());
        }
      });
      source.on('end', () => call.end());
      source.on('error', (error) => {
        call.cancel();
        reject(error);
      });
      // The server may refuse before reading everything (a bad path, say): stop sending.
      call.on('status', () => source.destroy());
    });
  }

  private async downloadOnce(
    path: string,
    file: string,
    fromJobId: string,
  ): Promise<DownloadedArtifact> {
    const partial = `${file}.partial-${randomUUID().slice(0, 8)}`;
    const call = this.connect().downloadArtifact(
      { jobId: this.options.jobId, fromJobId, path },
      this.metadata(),
      this.callOptions(),
    );
    const sink = createWriteStream(partial);
    const hash = createHash('sha256');
    let header: DownloadArtifactResponse__Output['header'] = null;
    let received = 0;
    try {
      for await (const message of call as AsyncIterable<DownloadArtifactResponse__Output>) {
        if (message.payload === 'header') {
          header = message.header;
        } else if (message.chunk) {
          hash.update(message.chunk);
          received += message.chunk.length;
          if (!sink.write(message.chunk)) await once(sink, 'drain');
        }
      }
      await new Promise<void>((resolve, reject) =>
        sink.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      const sha256 = hash.digest('hex');
      if (!header) throw new Error(`DownloadArtifact sent no header for ${path}`);
      if (received !== Number(header.size) || sha256 !== header.sha256) {
        throw new Error(
          `DownloadArtifact of ${path} arrived damaged: ${received} of ${header.size} bytes, sha256 ${sha256}`,
        );
      }
      await rename(partial, file);
      return {
        artifactId: header.artifactId,
        jobId: header.jobId,
        attempt: header.attempt,
        path: header.path,
        contentType: header.contentType,
        size: Number(header.size),
        sha256: header.sha256,
        file,
      };
    } finally {
      sink.destroy();
      await rm(partial, { force: true });
    }
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    const policy = this.options.retry ?? DEFAULT_RETRY;
    let delay = policy.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const grpcError = error as Partial<grpc.ServiceError>;
        if (grpcError.code === grpc.status.UNAVAILABLE && attempt < policy.attempts) {
          await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)));
          delay = Math.min(delay * 2, policy.maxDelayMs);
          continue;
        }
        if (typeof grpcError.code === 'number') {
          throw new JobServiceError(grpcError.code, grpcError.details ?? grpcError.message ?? '');
        }
        throw error;
      }
    }
  }
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
