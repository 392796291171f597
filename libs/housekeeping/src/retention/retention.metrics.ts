import type { DanubeMetrics } from '@danube/observability';
import { Counter } from 'prom-client';

export const RETENTION_KINDS = [
  'jobs',
  'executions',
  'logs',
  'events',
  'artifacts',
  'workflows',
  'deliveries',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

const NAME = 'danube_retention_deleted_total';

/**
 * danube_retention_deleted_total{kind}: rows the retention sweep deleted, by kind (log lines
 * include those a log cap trimmed; artifacts count rows, each with its file). Registered once
 * per registry, however many sweepers share it.
 */
export function retentionDeletedCounter(metrics: DanubeMetrics | null): Counter<'kind'> | null {
  if (!metrics) return null;
  const existing = metrics.registry.getSingleMetric(NAME);
  if (existing) return existing as Counter<'kind'>;
  const counter = new Counter({
    name: NAME,
    help: 'Rows the retention sweep deleted, by kind: jobs, executions, logs, events, artifacts, workflows',
    labelNames: ['kind'] as const,
    registers: [metrics.registry],
  });
  // Every kind is exported from the start, at 0, so a rate over it is defined before the
  // first deletion.
  for (const kind of RETENTION_KINDS) counter.inc({ kind }, 0);
  return counter;
}
