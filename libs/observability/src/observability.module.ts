import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { HealthController, READINESS_CHECKS } from './health/health.controller';
import { PostgresHealthIndicator } from './health/postgres.health';
import { DanubeMetrics } from './metrics';
import { MetricsController } from './metrics.controller';

/**
 * /metrics, /healthz and /readyz for a process with an HTTP server, and the process's one
 * DanubeMetrics for everything that records metrics. Pass the instance to share it
 * (the all-in-one process), or let it make one.
 */
/** Something else a process needs to be ready: null when fine, else what is wrong. */
export interface ReadinessCheck {
  name: string;
  problem(): string | null;
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(
    metrics: DanubeMetrics = new DanubeMetrics(),
    readiness: ReadinessCheck[] = [],
  ): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: DanubeMetrics, useValue: metrics },
        PostgresHealthIndicator,
        {
          provide: READINESS_CHECKS,
          inject: [HealthIndicatorService],
          useFactory: (indicators: HealthIndicatorService) =>
            readiness.map((check) => () => {
              const indicator = indicators.check(check.name);
              const problem = check.problem();
              return problem === null ? indicator.up() : indicator.down({ message: problem });
            }),
        },
      ],
      exports: [DanubeMetrics],
    };
  }
}
