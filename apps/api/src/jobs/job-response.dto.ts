import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  ERROR_CATEGORIES,
  JOB_STATUSES,
  TASK_CLASSES,
  type Job,
  type JobStatus,
  type TaskClass,
} from '@danube/core';
import type { Execution, StoredLogLine } from '@danube/queue';

/**
 * What the API answers about jobs, once: these classes are the OpenAPI response schemas,
 * from which the SDK's types are generated (npm run openapi:gen), which the CLI uses.
 */

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class JobErrorResponse {
  @ApiProperty({ enum: ERROR_CATEGORIES })
  category!: string;
  @ApiProperty()
  message!: string;
  @ApiProperty({ type: Number, nullable: true })
  exitCode!: number | null;
}

export class BackoffResponse {
  @ApiProperty()
  initialSeconds!: number;
  @ApiProperty()
  factor!: number;
  @ApiProperty()
  maxSeconds!: number;
}

export class JobResponse {
  @ApiProperty({ description: 'The job id (a 64-bit integer, as a string)' })
  id!: string;
  @ApiProperty()
  topic!: string;
  @ApiProperty({ enum: TASK_CLASSES })
  taskClass!: TaskClass;
  @ApiProperty({ enum: JOB_STATUSES })
  status!: JobStatus;
  @ApiProperty()
  priority!: number;
  @ApiProperty({ type: String, format: 'date-time' })
  runAt!: Date;
  @ApiProperty({ description: 'Attempts started so far (the current one included)' })
  attempts!: number;
  @ApiProperty()
  maxAttempts!: number;
  @ApiProperty()
  timeoutSeconds!: number;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'An argv array, or a string run by /bin/sh -c',
  })
  command!: string[] | string;
  @ApiProperty({ type: String, nullable: true })
  image!: string | null;
  @ApiProperty(stringMap)
  env!: Record<string, string>;
  @ApiProperty({ type: BackoffResponse })
  backoff!: BackoffResponse;
  @ApiProperty({ type: [Number] })
  noRetryExitCodes!: number[];
  @ApiProperty({ type: [String] })
  secrets!: string[];
  @ApiProperty(stringMap)
  secretEnv!: Record<string, string>;
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: stringMap,
    description: 'requests and limits, as Kubernetes quantities',
  })
  resources!: Record<string, Record<string, string>> | null;
  @ApiProperty(stringMap)
  labels!: Record<string, string>;
  @ApiProperty({ type: String, nullable: true })
  idempotencyKey!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'From ReportStatus, 0-100' })
  progress!: number | null;
  @ApiProperty({ type: String, nullable: true })
  statusMessage!: string | null;
  @ApiProperty({ nullable: true, description: 'Any JSON: result.json, or ReportStatus' })
  result!: unknown;
  @ApiProperty({ type: JobErrorResponse, nullable: true })
  error!: JobErrorResponse | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The executor holding the job now; once it is not held, the executor that started its last attempt',
  })
  executor!: string | null;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  cancelRequestedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true })
  workflowId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  nodeName!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Set on a step: the job that ran it' })
  parentJobId!: string | null;

  static of(job: Job): JobResponse {
    return {
      id: job.id,
      topic: job.topic,
      taskClass: job.taskClass,
      status: job.status,
      priority: job.priority,
      runAt: job.runAt,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      timeoutSeconds: job.timeoutSeconds,
      command: job.spec.command,
      image: job.spec.image ?? null,
      env: job.spec.env,
      backoff: job.spec.backoff,
      noRetryExitCodes: job.spec.noRetryExitCodes,
      secrets: job.spec.secrets ?? [],
      secretEnv: job.spec.secretEnv ?? {},
      resources: (job.spec.resources as JobResponse['resources']) ?? null,
      labels: job.labels,
      idempotencyKey: job.idempotencyKey,
      progress: job.progress,
      statusMessage: job.statusMessage,
      result: job.result ?? null,
      error: job.error,
      executor: job.leaseOwner ?? job.startedBy,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      cancelRequestedAt: job.cancelRequestedAt,
      workflowId: job.workflowId,
      nodeName: job.nodeName,
      parentJobId: job.parentJobId,
    };
  }
}

export class JobPage {
  @ApiProperty({ type: [JobResponse] })
  items!: JobResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass back as cursor; null on the last page',
  })
  nextCursor!: string | null;
}

const WARNINGS: ApiPropertyOptions = {
  type: [String],
  description:
    'What the submitter should know, e.g. that no live executor serves the topic (the job waits until one does); empty when all is well',
};

export class SubmittedJobResponse extends JobResponse {
  @ApiProperty(WARNINGS)
  warnings!: string[];
}

export class BatchJobResponse extends JobResponse {
  @ApiProperty({ description: 'false: an idempotency key matched a job stored before' })
  created!: boolean;
}

export class JobBatchResponse {
  @ApiProperty({ type: [BatchJobResponse] })
  jobs!: BatchJobResponse[];
  @ApiProperty(WARNINGS)
  warnings!: string[];
}

export class ExecutionResponse {
  @ApiProperty()
  jobId!: string;
  @ApiProperty()
  attempt!: number;
  @ApiProperty({ description: 'The executor that started the attempt' })
  executorId!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Set when the attempt outlived the executor that started it (a Kubernetes Job): the executor that adopted it and recorded its end',
  })
  adoptedBy!: string | null;
  @ApiProperty()
  runtime!: string;
  @ApiProperty({ type: String, nullable: true })
  runtimeRef!: string | null;
  @ApiProperty({ enum: ['succeeded', 'failed', 'timed_out', 'cancelled'] })
  outcome!: string;
  @ApiProperty({ enum: ERROR_CATEGORIES, nullable: true })
  errorCategory!: string | null;
  @ApiProperty({ type: String, nullable: true })
  message!: string | null;
  @ApiProperty({ type: Number, nullable: true })
  exitCode!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last bytes of stderr' })
  stderrTail!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time' })
  finishedAt!: Date;

  static of(e: Execution): ExecutionResponse {
    return { ...e };
  }
}

export class ExecutionPage {
  @ApiProperty({ type: [ExecutionResponse] })
  items!: ExecutionResponse[];
}

export class LogLineResponse {
  @ApiProperty({ description: 'Pass back as after (or Last-Event-ID) to read on' })
  id!: string;
  @ApiProperty()
  attempt!: number;
  @ApiProperty({
    enum: ['stdout', 'stderr', 'combined', 'system'],
    description:
      "combined: stdout and stderr as one stream, as Kubernetes keeps a container's log; system: Danube's own notes",
  })
  stream!: string;
  @ApiProperty()
  line!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  at!: Date;

  static of(l: StoredLogLine): LogLineResponse {
    return { id: l.id, attempt: l.attempt, stream: l.stream, line: l.line, at: l.loggedAt };
  }
}

export class LogPage {
  @ApiProperty({ type: [LogLineResponse] })
  lines!: LogLineResponse[];
  @ApiProperty({ description: 'Pass back as after for the next page' })
  nextAfter!: string;
}

export class WhyReasonResponse {
  @ApiProperty({
    enum: [
      'waiting_on_parents',
      'scheduled',
      'retry_backoff',
      'tenant_quota_full',
      'class_quota_full',
      'no_executor',
      'executors_full',
      'pod_pending',
      'due',
    ],
  })
  code!: string;
  @ApiProperty({ description: 'The reason as a sentence' })
  message!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;
}

export class WhyResponse {
  @ApiProperty()
  jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES })
  status!: string;
  @ApiProperty({
    type: [WhyReasonResponse],
    description: "Empty once the job's code runs, or it has ended",
  })
  reasons!: WhyReasonResponse[];
}
