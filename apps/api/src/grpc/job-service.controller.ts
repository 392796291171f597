import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type {
  Metadata,
  sendUnaryData,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { EMPTY, type Observable } from 'rxjs';
import { DanubeError, InvalidArgumentError, isId, isTerminal } from '@danube/core';
import { ArtifactsService } from '@danube/artifacts';
import type {
  DownloadArtifactRequest__Output,
  DownloadArtifactResponse,
  GetSecretRequest__Output,
  GetSecretResponse,
  ReportStatusRequest__Output,
  ReportStatusResponse,
  RunStepRequest__Output,
  RunStepResponse,
  UploadArtifactRequest__Output,
  UploadArtifactResponse,
} from '@danube/proto';
import { JobsService, StepsService } from '@danube/queue';
import { SecretsService, checkName } from '@danube/secrets';
import { GrpcExceptionFilter, toGrpcError } from './grpc-errors';
import { JobCallerAuth } from './job-caller';

/**
 * The JobService: what code inside a running job calls. Every handler first checks the
 * caller's job token (JobCallerAuth); errors become gRPC statuses in GrpcExceptionFilter.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class JobServiceController {
  constructor(
    private readonly auth: JobCallerAuth,
    private readonly jobs: JobsService,
    private readonly steps: StepsService,
    private readonly secrets: SecretsService,
    private readonly artifacts: ArtifactsService,
  ) {}

  @GrpcMethod('JobService', 'RunStep')
  async runStep(
    request: RunStepRequest__Output,
    metadata: Metadata,
    call: ServerUnaryCall<RunStepRequest__Output, RunStepResponse>,
  ): Promise<RunStepResponse> {
    const { job } = await this.auth.authorize(metadata, request.jobId);
    const hasArgv = request.command.length > 0;
    if (hasArgv === (request.script !== '')) {
      throw new InvalidArgumentError(
        'give exactly one of command (an argv array) and script (run by /bin/sh -c)',
        { field: 'command' },
      );
    }
    // The caller going away (its attempt killed, say) cancels the step it was waiting for.
    const gone = new AbortController();
    call.once('cancelled', () => gone.abort());
    const started = await this.steps.start(job, {
      command: hasArgv ? request.command : request.script,
      env: request.env,
      image: request.image || undefined,
      name: request.name || undefined,
      timeoutSeconds: request.timeoutSeconds || undefined,
      topic: request.topic || undefined,
      requestId: request.requestId || undefined,
    });
    const ended = await this.steps.waitForEnd(started, gone.signal);
    if (!isTerminal(ended.status)) {
      await this.jobs.cancel(ended.tenant, ended.id).catch(() => undefined);
      throw new DanubeError(
        'unavailable',
        `the call was cancelled; step ${ended.id} was cancelled`,
      );
    }
    const { step, exitCode, stdout, stderr } = await this.steps.outcome(ended);
    return {
      stepJobId: step.id,
      status: step.status,
      ...(exitCode !== null && { exitCode }),
      stdout: stdout.text,
      stderr: stderr.text,
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      errorMessage:
        step.status === 'succeeded' ? '' : (step.error?.message ?? step.skipReason ?? ''),
      resultJson:
        step.result === null || step.result === undefined ? '' : JSON.stringify(step.result),
    };
  }

  @GrpcMethod('JobService', 'GetSecret')
  async getSecret(
    request: GetSecretRequest__Output,
    metadata: Metadata,
  ): Promise<GetSecretResponse> {
    const { job } = await this.auth.authorize(metadata, request.jobId);
    checkName(request.name, 'name');
    if (!(job.spec.secrets ?? []).includes(request.name)) {
      throw new DanubeError(
        'permission_denied',
        `job ${job.id} does not list secret "${request.name}" in its spec's secrets; a job reads only the secrets it lists`,
      );
    }
    const value = (await this.secrets.reveal(job.tenant, [request.name])).get(request.name);
    if (value === undefined) {
      throw new DanubeError('not_found', `secret "${request.name}" does not exist`);
    }
    return { value };
  }

  @GrpcMethod('JobService', 'ReportStatus')
  async reportStatus(
    request: ReportStatusRequest__Output,
    metadata: Metadata,
  ): Promise<ReportStatusResponse> {
    const { job, attempt } = await this.auth.authorize(metadata, request.jobId);
    await this.jobs.reportStatus(job.id, attempt, {
      progress: request.progress ?? null,
      message: request.message,
      resultJson: request.resultJson,
    });
    return {};
  }

  /**
   * A client stream: the header, then chunks. Handled on the raw call (not an Observable)
   * so that bytes reach the disk with backpressure instead of piling up in memory.
   */
  @GrpcStreamCall('JobService', 'UploadArtifact')
  uploadArtifact(
    call: ServerReadableStream<UploadArtifactRequest__Output, UploadArtifactResponse>,
    callback: sendUnaryData<UploadArtifactResponse>,
  ): void {
    this.upload(call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcError(error)),
    );
  }

  private async upload(
    call: ServerReadableStream<UploadArtifactRequest__Output, UploadArtifactResponse>,
  ): Promise<UploadArtifactResponse> {
    const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadArtifactRequest__Output>;
    const first = await messages.next();
    if (first.done || first.value.payload !== 'header' || !first.value.header) {
      throw new InvalidArgumentError(
        'the first message must carry the header {job_id, path, content_type, size}',
        { field: 'header' },
      );
    }
    const header = first.value.header;
    const { job, attempt } = await this.auth.authorize(call.metadata, header.jobId);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (;;) {
        const next = await messages.next();
        if (next.done) return;
        if (next.value.payload !== 'chunk' || !next.value.chunk) {
          throw new InvalidArgumentError('only the first message may carry a header', {
            field: 'header',
          });
        }
        yield next.value.chunk;
      }
    }
    // upload() checks the header before it reads the first chunk: a refused upload costs
    // no bytes.
    const artifact = await this.artifacts.upload(
      {
        jobId: job.id,
        attempt,
        path: header.path,
        contentType: header.contentType,
        size: Number(header.size),
        sha256: header.sha256 || undefined,
      },
      Readable.from(chunks()),
    );
    return { artifactId: artifact.id, size: artifact.size, sha256: artifact.sha256 };
  }

  /**
   * A server stream: the header, then chunks. The handler writes to the call itself,
   * waiting for it to drain, so a large artifact never sits in memory; Nest ends the call
   * once the (empty) Observable it returns completes.
   */
  @GrpcMethod('JobService', 'DownloadArtifact')
  async downloadArtifact(
    request: DownloadArtifactRequest__Output,
    metadata: Metadata,
    call: ServerWritableStream<DownloadArtifactRequest__Output, DownloadArtifactResponse>,
  ): Promise<Observable<never>> {
    const { job } = await this.auth.authorize(metadata, request.jobId);
    const ownerId = request.fromJobId || job.id;
    if (!isId(ownerId)) {
      throw new InvalidArgumentError(
        `from_job_id ${JSON.stringify(request.fromJobId)} is not a job id; leave it empty for the calling job`,
        { field: 'from_job_id' },
      );
    }
    const { artifact, content } = await this.artifacts.openForJob(job.id, ownerId, request.path);
    const gone = new AbortController();
    call.once('cancelled', () => gone.abort());
    try {
      call.write({
        header: {
          artifactId: artifact.id,
          jobId: artifact.jobId,
          attempt: artifact.attempt,
          path: artifact.path,
          contentType: artifact.contentType,
          size: artifact.size,
          sha256: artifact.sha256,
        },
      });
      for await (const chunk of content as AsyncIterable<Buffer>) {
        if (gone.signal.aborted) break;
        if (!call.write({ chunk })) {
          await once(call, 'drain', { signal: gone.signal }).catch(() => undefined);
        }
      }
    } finally {
      content.destroy();
    }
    return EMPTY;
  }
}
