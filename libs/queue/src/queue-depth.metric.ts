import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DanubeMetrics } from '@danube/observability';
import { Gauge } from 'prom-client';
import { JobsRepository } from './jobs.repository';

/**
 * danube_queue_depth{topic,status}: counted in Postgres when Prometheus scrapes, so every
 * API instance reports the same, current numbers. A scrape while the database is down
 * reports no depth rather than failing.
 */
@Injectable()
export class QueueDepthMetric {
  private readonly logger = new Logger(QueueDepthMetric.name);

  constructor(
    jobs: JobsRepository,
    @Optional() @Inject(DanubeMetrics) metrics: DanubeMetrics | null,
  ) {
    if (!metrics) return;
    const logger = this.logger;
    new Gauge({
      name: 'danube_queue_depth',
      help: 'Jobs not yet finished, by topic and status (blocked, queued, claimed, running)',
      labelNames: ['topic', 'status'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        try {
          for (const row of await jobs.queueDepth()) {
            this.set({ topic: row.topic, status: row.status }, row.count);
          }
        } catch (error) {
          logger.warn(`queue depth not counted: ${String(error)}`);
        }
      },
    });
  }
}
