import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DbModule } from '@danube/db';
import { loggingModule } from '@danube/observability';
import { QueueModule } from '@danube/queue';
import type { ApiOptions } from './api.config';
import { FleetController } from './fleet/fleet.controller';
import { HealthController, PostgresHealthIndicator } from './health/health.controller';
import { JobsController } from './jobs/jobs.controller';

/** The REST API: jobs, topics, executors, health. */
@Module({})
export class ApiModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        loggingModule('api', options.logLevel),
        DbModule.forRoot({
          databaseUrl: options.databaseUrl,
          max: 20,
          applicationName: 'danube-api',
        }),
        QueueModule.forRoot({ slurmEnabled: options.slurmEnabled, maxBatchSize: options.maxBatch }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [JobsController, FleetController, HealthController],
      providers: [PostgresHealthIndicator],
    };
  }
}
