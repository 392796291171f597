import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import { READ_EVENTS } from './events.sql';

/** A row READ_EVENTS returns: an event, or the horizon (how far the stream is complete). */
export interface EventRow {
  kind: 'event' | 'horizon';
  tx: string;
  seq: string;
  type: string;
  job_id: string | null;
  workflow_id: string | null;
  topic: string | null;
  attempt: number | null;
  data: Record<string, unknown> | null;
  created_at: Date;
}

/** danube.events, read in commit order: the statement of events.sql.ts. */
@Injectable()
export class EventsRepository extends Repository {
  async read(
    after: { tx: string; seq: string },
    filter: { tenant: string; topic?: string; jobId?: string; workflowId?: string },
    limit: number,
  ): Promise<EventRow[]> {
    const { rows } = await this.db.query<EventRow>(READ_EVENTS, [
      after.tx,
      after.seq,
      filter.topic ?? null,
      filter.jobId ?? null,
      filter.workflowId ?? null,
      limit,
      filter.tenant,
    ]);
    return rows;
  }
}
