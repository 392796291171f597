import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller';
import { PostgresHealthIndicator } from './health/postgres.health';
import { DanubeMetrics } from './metrics';
import { MetricsController } from './metrics.controller';

/**
 * /metrics, /healthz and /readyz for a process with an HTTP server, and the process's one
 * DanubeMetrics for everything that records metrics. Pass the instance to share it
 * (the all-in-one process), or let it make one.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(metrics: DanubeMetrics = new DanubeMetrics()): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [{ provide: DanubeMetrics, useValue: metrics }, PostgresHealthIndicator],
      exports: [DanubeMetrics],
    };
  }
}
