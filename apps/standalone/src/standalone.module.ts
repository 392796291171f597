import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ExecutorModule, type ExecutorOptions } from '@danube/executor';
import type { ApiOptions } from '../../api/src/api.config';
import { ApiModule } from '../../api/src/api.module';

/** Runs once Nest has stopped everything else: stops the embedded Postgres, if any. */
class AfterShutdown implements OnApplicationShutdown {
  constructor(private readonly hook: () => Promise<void>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.hook();
  }
}

/** API and one executor in one process, sharing one pool: `npm start`. */
@Module({})
export class StandaloneModule {
  static forRoot(
    api: ApiOptions,
    executor: ExecutorOptions,
    afterShutdown: () => Promise<void>,
  ): DynamicModule {
    return {
      module: StandaloneModule,
      imports: [ApiModule.forRoot(api), ExecutorModule.forRoot(executor)],
      providers: [{ provide: AfterShutdown, useValue: new AfterShutdown(afterShutdown) }],
    };
  }
}
