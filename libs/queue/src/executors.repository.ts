import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import * as sql from './executors.sql';

export interface ExecutorRegistration {
  id: string;
  topics: string[];
  host: string;
  pid: number;
  version: string;
  runtime: string;
  capacity: number;
}

export interface ExecutorRecord extends ExecutorRegistration {
  running: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt: Date | null;
  state: 'alive' | 'lost' | 'stopped';
}

/** The executor fleet's registry: the statements of executors.sql.ts. */
@Injectable()
export class ExecutorsRepository extends Repository {
  async register(e: ExecutorRegistration): Promise<void> {
    await this.db.query(sql.REGISTER_EXECUTOR, [
      e.id,
      e.topics,
      e.host,
      e.pid,
      e.version,
      e.runtime,
      e.capacity,
    ]);
  }

  async heartbeat(id: string, running: number): Promise<void> {
    await this.db.query(sql.HEARTBEAT_EXECUTOR, [id, running]);
  }

  async stop(id: string): Promise<void> {
    await this.db.query(sql.STOP_EXECUTOR, [id]);
  }

  /** The ids of the live executors serving each of `topics` (a topic nobody serves is absent). */
  async liveByTopic(topics: string[], lostAfterMs: number): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ topic: string; executors: string[] }>(
      sql.LIVE_EXECUTORS_BY_TOPIC,
      [lostAfterMs, topics],
    );
    return new Map(rows.map((r) => [r.topic, r.executors]));
  }

  /** `lostAfterMs`: how old a heartbeat may be before the executor counts as lost. */
  async list(lostAfterMs: number): Promise<ExecutorRecord[]> {
    const { rows } = await this.db.query(sql.LIST_EXECUTORS, [lostAfterMs]);
    return rows.map((r) => ({
      id: r.id,
      topics: r.topics,
      host: r.host,
      pid: r.pid,
      version: r.version,
      runtime: r.runtime,
      capacity: r.capacity,
      running: r.running,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      stoppedAt: r.stopped_at,
      state: r.state,
    }));
  }
}
