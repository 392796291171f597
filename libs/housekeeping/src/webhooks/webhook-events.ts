import { InvalidArgumentError } from '@danube/core';

/** What a webhook can ask to be sent, in the words of its payload's `type`. */
export const WEBHOOK_EVENT_KINDS = [
  'job.succeeded',
  'job.failed',
  'job.timed_out',
  'job.cancelled',
  'workflow.finished',
  'schedule.fired',
] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number];

/** The danube.events types behind each kind; a workflow's three endings are one kind. */
const EVENT_TYPES: Record<WebhookEventKind, readonly string[]> = {
  'job.succeeded': ['job_succeeded'],
  'job.failed': ['job_failed'],
  'job.timed_out': ['job_timed_out'],
  'job.cancelled': ['job_cancelled'],
  'workflow.finished': ['workflow_succeeded', 'workflow_failed', 'workflow_cancelled'],
  'schedule.fired': ['schedule_fired'],
};

/** The mapping as two parallel arrays (event type, kind), for the scan's unnest(). */
export const EVENT_TYPE_KINDS: { types: string[]; kinds: string[] } = (() => {
  const pairs = WEBHOOK_EVENT_KINDS.flatMap((kind) =>
    EVENT_TYPES[kind].map((type) => [type, kind] as const),
  );
  return { types: pairs.map(([type]) => type), kinds: pairs.map(([, kind]) => kind) };
})();

/**
 * The kinds asked for, each once, in the order given; an unknown one is a 400 naming its
 * place in the list (`events[2]`).
 */
export function checkEventKinds(events: readonly string[]): WebhookEventKind[] {
  if (events.length === 0) {
    throw new InvalidArgumentError(
      `events must name at least one of ${WEBHOOK_EVENT_KINDS.join(', ')}`,
      { field: 'events' },
    );
  }
  events.forEach((kind, i) => {
    if (!(WEBHOOK_EVENT_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidArgumentError(
        `events[${i}] ${JSON.stringify(kind)} is not an event kind; use one of ${WEBHOOK_EVENT_KINDS.join(', ')}`,
        { field: `events[${i}]` },
      );
    }
  });
  return [...new Set(events as readonly WebhookEventKind[])];
}
