import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { PG_POOL } from '@danube/db';
import { DanubeMetrics } from '@danube/observability';
import type { Runtime } from '@danube/runtime';
import type { Pool } from 'pg';
import type { ExecutorOptions } from './executor.config';
import { ExecutorService } from './executor.service';
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

@Module({})
export class ExecutorModule {
  /** `runtime`: one made already (the executor app checks its readiness); else made here. */
  static forRoot(options: ExecutorOptions, databaseUrl: string, runtime?: Runtime): DynamicModule {
    return {
      module: ExecutorModule,
      providers: [
        { provide: EXECUTOR_OPTIONS, useValue: options },
        {
          provide: ExecutorService,
          inject: [PG_POOL, DanubeMetrics],
          useFactory: async (pool: Pool, metrics: DanubeMetrics) =>
            new ExecutorService({
              pool,
              databaseUrl,
              options,
              runtime: runtime ?? (await createRuntime(options, metrics)),
              metrics,
            }),
        },
        ExecutorLifecycle,
      ],
      exports: [ExecutorService],
    };
  }
}
