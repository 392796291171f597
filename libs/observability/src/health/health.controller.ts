import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { PostgresHealthIndicator } from './postgres.health';

/** More readiness checks a process adds (the kubernetes runtime: its API server answers). */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    @Optional()
    @Inject(READINESS_CHECKS)
    private readonly extraChecks: HealthIndicatorFunction[] = [],
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
    return this.health.check([() => this.postgres.check(), ...(this.extraChecks ?? [])]);
  }
}
