import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Pool } from 'pg';
import { createPool, type PoolOptions } from './pool';

export const PG_POOL = Symbol('PG_POOL');
/** The connection string, for what needs a connection of its own (LISTEN). */
export const DATABASE_URL = Symbol('DATABASE_URL');

/** Injects the process's pg Pool. */
export const InjectPool = () => Inject(PG_POOL);

class PoolCloser implements OnApplicationShutdown {
  constructor(@InjectPool() private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

@Global()
@Module({})
export class DbModule {
  static forRoot(options: PoolOptions): DynamicModule {
    return {
      module: DbModule,
      providers: [
        { provide: PG_POOL, useFactory: () => createPool(options) },
        { provide: DATABASE_URL, useValue: options.databaseUrl },
        PoolCloser,
      ],
      exports: [PG_POOL, DATABASE_URL],
    };
  }
}
