import { Module, type DynamicModule } from '@nestjs/common';
import { ExecutorModule, type ExecutorOptions } from '@danube/executor';
import type { ApiOptions } from '../../api/src/api.config';
import { ApiModule } from '../../api/src/api.module';

/** API and one executor in one process, sharing one pool: `npm start`. */
@Module({})
export class StandaloneModule {
  static forRoot(api: ApiOptions, executor: ExecutorOptions): DynamicModule {
    return {
      module: StandaloneModule,
      imports: [ApiModule.forRoot(api), ExecutorModule.forRoot(executor)],
    };
  }
}
