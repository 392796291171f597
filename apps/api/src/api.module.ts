import { Module, type DynamicModule } from '@nestjs/common';
import { DbModule, LOCK_TIMEOUT_MS } from '@danube/db';
import { DanubeMetrics, ObservabilityModule, loggingModule } from '@danube/observability';
import { DagModule, WorkflowRelease } from '@danube/dag';
import { QueueModule } from '@danube/queue';
import { ArtifactsModule } from '@danube/artifacts';
import { AuthModule } from '@danube/auth';
import { HousekeepingModule } from '@danube/housekeeping';
import { SecretsModule } from '@danube/secrets';
import { ArtifactsController } from './artifacts/artifacts.controller';
import { EventsController } from './events/events.controller';
import { JobCallerAuth } from './grpc/job-caller';
import { JobServiceController } from './grpc/job-service.controller';
import { SecretsController } from './secrets/secrets.controller';
import type { ApiOptions } from './api.config';
import { FleetController } from './fleet/fleet.controller';
import { JobsController } from './jobs/jobs.controller';
import { WorkflowsController } from './workflows/workflows.controller';
import { AdminKeyAtStart } from './auth/admin-key';
import { API_OPTIONS_AUTH } from './auth/api-auth.options';
import { ApiKeysController } from './auth/api-keys.controller';
import { AuditController } from './auth/audit.controller';
import { TenantsController } from './auth/tenants.controller';
import { UsageController } from './usage/usage.controller';
import { SchedulesController } from './schedules/schedules.controller';
import { RetentionController } from './retention/retention.controller';
import { WebhooksController } from './webhooks/webhooks.controller';

/**
 * How often graphile-worker looks for chores that became due: a schedule firing every
 * second fires within about this long of its time.
 */
const HOUSEKEEPING_POLL_MS = 500;

/** The REST API (jobs, workflows, topics, executors, secrets, artifacts, health) and the JobService. */
@Module({})
export class ApiModule {
  static forRoot(options: ApiOptions, metrics: DanubeMetrics = new DanubeMetrics()): DynamicModule {
    const queue = QueueModule.forRoot(
      { acceptGpuSlurm: options.acceptGpuSlurm, maxBatchSize: options.maxBatch },
      new WorkflowRelease(),
    );
    const dag = DagModule.forRoot({ maxNodes: options.dagMaxNodes }, queue);
    const artifacts = ArtifactsModule.forRoot({
      dir: options.artifactDir,
      maxBytes: options.artifactMaxBytes,
    });
    return {
      module: ApiModule,
      imports: [
        loggingModule('api', options.logLevel),
        DbModule.forRoot({
          databaseUrl: options.databaseUrl,
          max: 20,
          applicationName: 'danube-api',
          lockTimeoutMs: LOCK_TIMEOUT_MS,
        }),
        queue,
        dag,
        ObservabilityModule.forRoot(metrics),
        SecretsModule.forRoot(options.keyring),
        artifacts,
        AuthModule.forRoot({ enabled: options.auth.enabled, guard: true }),
        HousekeepingModule.forRoot(
          {
            ...options.housekeeping,
            databaseUrl: options.databaseUrl,
            pollIntervalMs: HOUSEKEEPING_POLL_MS,
          },
          [queue, dag, artifacts],
        ),
      ],
      controllers: [
        JobsController,
        WorkflowsController,
        FleetController,
        SecretsController,
        EventsController,
        ArtifactsController,
        JobServiceController,
        ApiKeysController,
        TenantsController,
        AuditController,
        UsageController,
        SchedulesController,
        RetentionController,
        WebhooksController,
      ],
      providers: [
        JobCallerAuth,
        { provide: API_OPTIONS_AUTH, useValue: options.auth },
        AdminKeyAtStart,
      ],
    };
  }
}
