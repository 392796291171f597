import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadConfig } from '@danube/core';

/** The collector's environment, set by the kubernetes runtime on the sidecar; validated at start. */
export class CollectorEnv {
  // Matches first: the type check is registered first and so names a missing variable.
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'DANUBE_JOB_ID must be a job id (digits)' })
  @IsString({ message: 'DANUBE_JOB_ID is required: the id of the job whose outputs to collect' })
  DANUBE_JOB_ID!: string;

  @Type(() => Number)
  @IsInt({ message: 'DANUBE_ATTEMPT must be a whole number, the attempt the outputs belong to' })
  @Min(1)
  DANUBE_ATTEMPT!: number;

  @IsString({ message: "DANUBE_JOB_TOKEN is required: the attempt's token for the JobService" })
  DANUBE_JOB_TOKEN!: string;

  @Matches(/^[^\s/]+:\d{1,5}$/, {
    message: 'DANUBE_GRPC_ADDRESS must be host:port of the JobService, such as danube-api:9000',
  })
  @IsString({ message: 'DANUBE_GRPC_ADDRESS is required: host:port of the JobService' })
  DANUBE_GRPC_ADDRESS!: string;

  @Matches(/^\//, { message: 'DANUBE_OUTPUT_DIR must be an absolute path' })
  DANUBE_OUTPUT_DIR = '/danube/outputs';

  @Matches(/^\/.*[^/]$/, { message: 'DANUBE_RESULT_FILE must be the absolute path of a file' })
  DANUBE_RESULT_FILE = '/danube/result.json';

  /**
   * How long the collection may take after SIGTERM, all retries included. Keep it well
   * inside the pod's terminationGracePeriodSeconds, or the kubelet kills the collector
   * before it can say what was lost.
   */
  @Type(() => Number)
  @IsInt({ message: 'COLLECTOR_DEADLINE_MS must be a whole number of milliseconds' })
  @Min(100)
  @Max(3_600_000)
  COLLECTOR_DEADLINE_MS = 25_000;

  /**
   * Written once the collector listens for SIGTERM; the pod's startupProbe waits for it,
   * so the job's container starts only when its end can no longer go unheard.
   */
  @IsOptional()
  @Matches(/^\/.*[^/]$/, { message: 'COLLECTOR_READY_FILE must be the absolute path of a file' })
  COLLECTOR_READY_FILE?: string;

  /**
   * Where the kubelet reads the container's termination message (the pod's
   * terminationMessagePath): the collector's last line goes there too, so that the
   * executor reads it whatever the exit code (a log tail is kept only on failure).
   */
  @IsOptional()
  @Matches(/^\/.*[^/]$/, {
    message: 'COLLECTOR_TERMINATION_LOG must be the absolute path of a file',
  })
  COLLECTOR_TERMINATION_LOG?: string;
}

export interface CollectorOptions {
  /** host:port of the JobService. */
  address: string;
  jobId: string;
  attempt: number;
  token: string;
  outputDir: string;
  resultFile: string;
  /** From the start of the collection to the process's exit, at most. */
  deadlineMs: number;
  /** Created once the signal handlers are in place (null: none). */
  readyFile: string | null;
  /** Where the last line is written as well (null: nowhere). */
  terminationLog: string | null;
}

export function loadCollectorOptions(env: NodeJS.ProcessEnv = process.env): CollectorOptions {
  const e = loadConfig(CollectorEnv, env);
  return {
    address: e.DANUBE_GRPC_ADDRESS,
    jobId: e.DANUBE_JOB_ID,
    attempt: e.DANUBE_ATTEMPT,
    token: e.DANUBE_JOB_TOKEN,
    outputDir: e.DANUBE_OUTPUT_DIR,
    resultFile: e.DANUBE_RESULT_FILE,
    deadlineMs: e.COLLECTOR_DEADLINE_MS,
    readyFile: e.COLLECTOR_READY_FILE ?? null,
    terminationLog: e.COLLECTOR_TERMINATION_LOG ?? null,
  };
}
