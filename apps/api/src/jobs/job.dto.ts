import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import {
  JOB_STATUSES,
  TASK_CLASSES,
  type JobStatus,
  type NewJob,
  type ResourceHints,
  type TaskClass,
} from '@danube/core';
import { IsCommand, IsStringRecord, ValidateNestedObjects } from '../http/validators';
import { PageQuery } from '../http/page.query';

export class BackoffDto {
  @ApiPropertyOptional({ description: 'Delay before the first retry, in seconds', default: 1 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(86_400)
  initialSeconds?: number;

  @ApiPropertyOptional({
    description: 'Each retry waits this many times longer than the last',
    default: 2,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(10)
  factor?: number;

  @ApiPropertyOptional({ description: 'Longest delay between attempts, in seconds', default: 300 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(7 * 86_400)
  maxSeconds?: number;
}

export class CreateJobDto {
  @ApiProperty({
    description: 'Executors subscribe to topics; a job runs on an executor of its topic',
    example: 'reports',
  })
  @IsString()
  @Length(1, 128)
  topic!: string;

  @ApiProperty({
    description: 'An argv array, or a string run by /bin/sh -c',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['echo', 'hello'],
  })
  @IsCommand()
  command!: string | string[];

  @ApiPropertyOptional({ enum: TASK_CLASSES, default: 'cpu_short' })
  @IsOptional()
  @IsIn(TASK_CLASSES)
  taskClass?: TaskClass;

  @ApiPropertyOptional({
    description: 'Container image (Kubernetes runtime)',
    example: 'python:3.12-slim',
  })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  image?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { GREETING: 'hi' },
  })
  @IsOptional()
  @IsStringRecord()
  env?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'Longest an attempt may run; default and ceiling come from the task class',
    example: 30,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  timeoutSeconds?: number;

  @ApiPropertyOptional({ description: 'Attempts in all, the first included', default: 3 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxAttempts?: number;

  @ApiPropertyOptional({ type: BackoffDto })
  @IsOptional()
  @ValidateNestedObjects(() => BackoffDto)
  backoff?: BackoffDto;

  @ApiPropertyOptional({
    description: 'Exit codes that fail the job at once, without retries',
    type: 'integer',
    isArray: true,
    minimum: 1,
    maximum: 255,
    example: [2],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(255, { each: true })
  noRetryExitCodes?: number[];

  @ApiPropertyOptional({
    description:
      'Secrets the job may read through the JobService (GetSecret); values are never shown',
    example: ['db-password'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  secrets?: string[];

  @ApiPropertyOptional({
    description:
      'Environment variables filled from secrets: variable name -> secret name (listed in secrets)',
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { DB_PASSWORD: 'db-password' },
  })
  @IsOptional()
  @IsStringRecord()
  secretEnv?: Record<string, string>;

  @ApiPropertyOptional({
    description:
      'Compute for each attempt (Kubernetes runtime), over the task class defaults: cpu, memory, ephemeral-storage as Kubernetes quantities',
    type: 'object',
    properties: {
      requests: { type: 'object', additionalProperties: { type: 'string' } },
      limits: { type: 'object', additionalProperties: { type: 'string' } },
    },
    example: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
  })
  @IsOptional()
  @IsObject({ message: 'resources must be an object with requests and/or limits' })
  resources?: ResourceHints;

  @ApiPropertyOptional({ description: 'Higher runs first', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional({
    description: 'Not before this time (ISO 8601)',
    example: '2030-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  runAt?: string;

  @ApiPropertyOptional({ description: 'Submitting the same key again returns the existing job' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  idempotencyKey?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringRecord(64)
  labels?: Record<string, string>;
}

export class CreateJobBatchDto {
  @ApiProperty({ type: [CreateJobDto], description: 'Stored all together or not at all' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNestedObjects(() => CreateJobDto, { each: true })
  jobs!: CreateJobDto[];
}

export class ListJobsQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 128)
  topic?: string;

  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;
}

export class LogsQuery {
  @ApiPropertyOptional({
    description: 'Return lines after this line id (nextAfter of the previous page)',
  })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'after must be a line id' })
  after?: string;

  @ApiPropertyOptional({ default: 1000, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({
    description:
      'true: a Server-Sent Events stream of lines as they are written, until the job ends',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'follow must be true or false' })
  follow?: 'true' | 'false';
}

export function toNewJob(dto: CreateJobDto): NewJob {
  return {
    topic: dto.topic,
    command: dto.command,
    taskClass: dto.taskClass,
    image: dto.image,
    env: dto.env,
    timeoutSeconds: dto.timeoutSeconds,
    maxAttempts: dto.maxAttempts,
    backoff: dto.backoff,
    noRetryExitCodes: dto.noRetryExitCodes,
    secrets: dto.secrets,
    secretEnv: dto.secretEnv,
    resources: dto.resources,
    priority: dto.priority,
    runAt: dto.runAt === undefined ? undefined : new Date(dto.runAt),
    idempotencyKey: dto.idempotencyKey,
    labels: dto.labels,
  };
}
