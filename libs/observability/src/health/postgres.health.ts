import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectPool } from '@danube/db';
import type { Pool } from 'pg';

/** Up when Postgres answers `SELECT 1` within 2 s. */
@Injectable()
export class PostgresHealthIndicator {
  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'postgres') {
    const indicator = this.indicators.check(key);
    try {
      await Promise.race([
        this.pool.query('SELECT 1'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref(),
        ),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
