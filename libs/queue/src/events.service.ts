import { Injectable } from '@nestjs/common';
import { InvalidArgumentError } from '@danube/core';
import { EventsRepository } from './events.repository';

export interface DanubeEvent {
  seq: string;
  /** Where this event is in the stream: pass it back as `after` (or Last-Event-ID). */
  cursor: string;
  type: string;
  jobId: string | null;
  workflowId: string | null;
  topic: string | null;
  attempt: number | null;
  data: Record<string, unknown> | null;
  at: Date;
}

export interface EventFilter {
  /** Only this tenant's events: every reader is scoped to its own. */
  tenant: string;
  topic?: string;
  jobId?: string;
  workflowId?: string;
}

export interface EventPage {
  items: DanubeEvent[];
  /** Read on from here; past the last item when the rest of the stream so far did not match. */
  nextCursor: string;
}

const START = '0-0';
const CURSOR_PATTERN = /^(\d{1,20})-(\d{1,19})$/;

/** The event stream: job and workflow transitions in the order they committed. */
@Injectable()
export class EventsService {
  constructor(private readonly events: EventsRepository) {}

  async read(after: string | undefined, filter: EventFilter, limit: number): Promise<EventPage> {
    const cursor = after ?? START;
    const match = CURSOR_PATTERN.exec(cursor);
    if (!match) {
      throw new InvalidArgumentError(
        `after ${JSON.stringify(cursor)} is not an event cursor; pass back an event's cursor (or nextCursor)`,
        { field: 'after' },
      );
    }
    const rows = await this.events.read({ tx: match[1]!, seq: match[2]! }, filter, limit);
    const items: DanubeEvent[] = rows
      .filter((r) => r.kind === 'event')
      .map((r) => ({
        seq: r.seq,
        cursor: `${r.tx}-${r.seq}`,
        type: r.type,
        jobId: r.job_id,
        workflowId: r.workflow_id,
        topic: r.topic,
        attempt: r.attempt,
        data: r.data,
        at: r.created_at,
      }));
    const horizon = rows.find((r) => r.kind === 'horizon');
    const nextCursor =
      items.length === limit || !horizon
        ? (items.at(-1)?.cursor ?? cursor)
        : laterOf(cursor, `${horizon.tx}-${horizon.seq}`);
    return { items, nextCursor };
  }

  /**
   * The cursor at the end of the stream now (the last event that can no longer be joined
   * by an earlier one still committing): a follower starting here sees only what comes next.
   */
  async end(filter: EventFilter): Promise<string> {
    const rows = await this.events.read({ tx: '0', seq: '0' }, filter, 0);
    const horizon = rows.find((r) => r.kind === 'horizon');
    return horizon ? `${horizon.tx}-${horizon.seq}` : START;
  }
}

function laterOf(a: string, b: string): string {
  const [ta, sa] = a.split('-').map(BigInt) as [bigint, bigint];
  const [tb, sb] = b.split('-').map(BigInt) as [bigint, bigint];
  return ta > tb || (ta === tb && sa >= sb) ? a : b;
}
