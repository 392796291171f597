import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { PostgresHealthIndicator } from './postgres.health';
import { ReadinessChecks } from './readiness-checks';
import { PublicRoute } from '../public-route';

@ApiTags('health')
@PublicRoute()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessChecks,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: Postgres answers (and whatever else this process depends on). */
  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.postgres.check(),
      ...this.readiness.list().map((check) => () => {
        const indicator = this.indicators.check(check.name);
        const problem = check.problem();
        return problem === null ? indicator.up() : indicator.down({ message: problem });
      }),
    ]);
  }
}
