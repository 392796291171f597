import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { DATABASE_URL, PG_POOL } from '@danube/db';
import { WorkflowsRepository } from '@danube/dag';
import { DanubeMetrics, ReadinessChecks } from '@danube/observability';
import { AttemptsRepository, ExecutorsRepository } from '@danube/queue';
import { RUNTIME, type Runtime } from '@danube/runtime';
import { KEYRING, SecretsRepository, SecretsService } from '@danube/secrets';
import type { Pool } from 'pg';
import type { ExecutorOptions } from './executor.config';
import { ExecutorService } from './executor.service';
import { JobEnvironment } from './job-environment';
import { createRuntime } from './runtime-factory';

export const EXECUTOR_OPTIONS = Symbol('EXECUTOR_OPTIONS');

/** Starts the executor when the application starts, and stops it (gracefully) before shutdown. */
@Injectable()
class ExecutorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(ExecutorService) private readonly executor: ExecutorService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.executor.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.executor.stop();
  }
}

/**
 * One executor: its runtime (made here, the one place a runtime is made, and added to
 * /readyz), the repositories it writes through and the claim loop. Needs DbModule and
 * ObservabilityModule from the importing module.
 */
@Module({})
export class ExecutorModule {
  static forRoot(options: ExecutorOptions): DynamicModule {
    return {
      module: ExecutorModule,
      providers: [
        { provide: EXECUTOR_OPTIONS, useValue: options },
        { provide: KEYRING, useValue: options.keyring },
        AttemptsRepository,
        ExecutorsRepository,
        WorkflowsRepository,
        SecretsRepository,
        SecretsService,
        {
          provide: RUNTIME,
          inject: [DanubeMetrics, ReadinessChecks],
          useFactory: async (metrics: DanubeMetrics, readiness: ReadinessChecks) => {
            const runtime = await createRuntime(options, metrics);
            readiness.add({
              name: `runtime:${runtime.name}`,
              problem: () => runtime.readiness?.() ?? null,
            });
            return runtime;
          },
        },
        {
          provide: JobEnvironment,
          inject: [WorkflowsRepository, SecretsService],
          useFactory: (workflows: WorkflowsRepository, secrets: SecretsService) =>
            new JobEnvironment({
              workflows,
              secrets,
              keyring: options.keyring,
              grpcAddress: options.grpcAddress,
              apiUrl: options.apiUrl,
            }),
        },
        {
          provide: ExecutorService,
          inject: [
            PG_POOL,
            DATABASE_URL,
            DanubeMetrics,
            RUNTIME,
            AttemptsRepository,
            ExecutorsRepository,
            JobEnvironment,
          ],
          useFactory: (
            pool: Pool,
            databaseUrl: string,
            metrics: DanubeMetrics,
            runtime: Runtime,
            attempts: AttemptsRepository,
            executors: ExecutorsRepository,
            environment: JobEnvironment,
          ) =>
            new ExecutorService({
              pool,
              databaseUrl,
              options,
              runtime,
              metrics,
              attempts,
              executors,
              environment,
            }),
        },
        ExecutorLifecycle,
      ],
      exports: [ExecutorService],
    };
  }
}
