import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { join } from 'node:path';
import { loadConfig } from '@danube/core';
import { loadKeyring, type Keyring } from '@danube/secrets';
import { LOG_LEVELS, type LogLevel } from '@danube/observability';
import type { ApiAuthOptions } from './auth/api-auth.options';

/** The API's environment, one property per variable; validated at start. */
export class ApiEnv {
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Type(() => Number)
  @IsInt({ message: 'PORT must be a whole number' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '127.0.0.1';

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'API_BODY_LIMIT must be a size such as 512kb or 5mb' })
  API_BODY_LIMIT = '5mb';

  @Type(() => Number)
  @IsInt({ message: 'API_MAX_BATCH must be a whole number' })
  @Min(1)
  @Max(10_000)
  API_MAX_BATCH = 1000;

  @Type(() => Number)
  @IsInt({ message: 'DAG_MAX_NODES must be a whole number' })
  @Min(1)
  @Max(1_000_000)
  DAG_MAX_NODES = 10_000;

  /**
   * Accept gpu_slurm jobs: true where some executor runs them (the kubernetes runtime with
   * taskClasses.gpu_slurm in its K8S_RUNTIME_CONFIG).
   */
  @IsIn(['true', 'false'], { message: 'DANUBE_ACCEPT_GPU_SLURM must be true or false' })
  DANUBE_ACCEPT_GPU_SLURM = 'false';

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** The JobService (gRPC) listens here, on HOST. */
  @Type(() => Number)
  @IsInt({ message: 'GRPC_PORT must be a whole number' })
  @Min(0)
  @Max(65535)
  GRPC_PORT = 9000;

  /** Encrypts secrets and signs job tokens; executors need the same value. */
  @IsOptional()
  @IsString()
  DANUBE_SECRET_KEY?: string;

  @IsOptional()
  @IsString()
  ARTIFACT_DIR?: string;

  @Type(() => Number)
  @IsInt({ message: 'ARTIFACT_MAX_BYTES must be a whole number of bytes' })
  @Min(1)
  ARTIFACT_MAX_BYTES = 100 * 1024 * 1024;

  /** API keys on every route but health and metrics; `off` only where nobody else can reach it. */
  @IsIn(['on', 'off'], { message: 'DANUBE_AUTH must be on or off' })
  DANUBE_AUTH = 'on';

  /** `false`: the API does not apply pending migrations at start (run `npm run migrate`). */
  @IsIn(['true', 'false'], { message: 'DANUBE_MIGRATE must be true or false' })
  DANUBE_MIGRATE = 'true';

  /**
   * `off`: this replica runs no background chores (schedules, retention, webhook
   * deliveries); other replicas on the same database do. On by default.
   */
  @IsIn(['on', 'off'], { message: 'DANUBE_HOUSEKEEPING must be on or off' })
  DANUBE_HOUSEKEEPING = 'on';

  /** Chores (schedule fires, retention sweeps, webhook deliveries) one replica runs at once. */
  @Type(() => Number)
  @IsInt({ message: 'HOUSEKEEPING_CONCURRENCY must be a whole number' })
  @Min(1)
  @Max(100)
  HOUSEKEEPING_CONCURRENCY = 4;

  /** Days finished jobs are kept where a tenant set no retention policy of its own. */
  @Type(() => Number)
  @IsInt({ message: 'RETENTION_DAYS must be a whole number of days' })
  @Min(1, { message: 'RETENTION_DAYS must be at least 1' })
  @Max(36_500, { message: 'RETENTION_DAYS must be at most 36500' })
  RETENTION_DAYS = 30;

  /**
   * How late a schedule's fire may run and still count as on time; a later one was missed
   * (downtime) and runs only with catchUp "all".
   */
  @Type(() => Number)
  @IsInt({ message: 'SCHEDULE_LATE_FIRE_GRACE_SECONDS must be a whole number' })
  @Min(1)
  @Max(3600)
  SCHEDULE_LATE_FIRE_GRACE_SECONDS = 15;

  /** A key (dnb_live_...) stored at start as an admin key of the default tenant. */
  @IsOptional()
  @IsString()
  DANUBE_ADMIN_KEY?: string;
}

export interface ApiOptions {
  databaseUrl: string;
  port: number;
  host: string;
  bodyLimit: string;
  maxBatch: number;
  dagMaxNodes: number;
  acceptGpuSlurm: boolean;
  logLevel: LogLevel;
  grpcPort: number;
  /** null without DANUBE_SECRET_KEY: no secrets, and job tokens cannot be checked. */
  keyring: Keyring | null;
  artifactDir: string;
  artifactMaxBytes: number;
  auth: ApiAuthOptions;
  /** Apply pending migrations at start. */
  migrate: boolean;
  housekeeping: {
    enabled: boolean;
    concurrency: number;
    retentionDays: number;
    lateFireGraceMs: number;
  };
}

export function loadApiOptions(
  env: NodeJS.ProcessEnv = process.env,
  databaseUrl?: string,
): ApiOptions {
  const e = loadConfig(ApiEnv, env, { DANUBE_SLURM_ENABLED: 'DANUBE_ACCEPT_GPU_SLURM' });
  const url = databaseUrl ?? e.DATABASE_URL;
  if (!url)
    throw new Error(
      'invalid configuration: DATABASE_URL is required (e.g. postgres://user:pass@localhost:5432/danube)',
    );
  return {
    databaseUrl: url,
    port: e.PORT,
    host: e.HOST,
    bodyLimit: e.API_BODY_LIMIT,
    maxBatch: e.API_MAX_BATCH,
    dagMaxNodes: e.DAG_MAX_NODES,
    acceptGpuSlurm: e.DANUBE_ACCEPT_GPU_SLURM === 'true',
    logLevel: e.LOG_LEVEL,
    grpcPort: e.GRPC_PORT,
    keyring: loadKeyring(e.DANUBE_SECRET_KEY),
    artifactDir: e.ARTIFACT_DIR ?? join(process.cwd(), '.danube', 'artifacts'),
    artifactMaxBytes: e.ARTIFACT_MAX_BYTES,
    auth: { enabled: e.DANUBE_AUTH !== 'off', adminKey: e.DANUBE_ADMIN_KEY ?? null },
    migrate: e.DANUBE_MIGRATE === 'true',
    housekeeping: {
      enabled: e.DANUBE_HOUSEKEEPING === 'on',
      concurrency: e.HOUSEKEEPING_CONCURRENCY,
      retentionDays: e.RETENTION_DAYS,
      lateFireGraceMs: e.SCHEDULE_LATE_FIRE_GRACE_SECONDS * 1000,
    },
  };
}
