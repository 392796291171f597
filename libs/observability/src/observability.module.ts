import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller';
import { PostgresHealthIndicator } from './health/postgres.health';
import { ReadinessChecks } from './health/readiness-checks';
import { DanubeMetrics } from './metrics';
import { MetricsController } from './metrics.controller';

/**
 * /metrics, /healthz and /readyz for a process with an HTTP server, the process's one
 * DanubeMetrics for everything that records metrics (pass the instance to share it, or let
 * it make one), and the ReadinessChecks others add to /readyz.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(metrics: DanubeMetrics = new DanubeMetrics()): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: DanubeMetrics, useValue: metrics },
        PostgresHealthIndicator,
        ReadinessChecks,
      ],
      exports: [DanubeMetrics, ReadinessChecks],
    };
  }
}
