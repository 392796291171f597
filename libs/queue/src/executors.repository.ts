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
  /** Its lease duration: missing heartbeats for that long, it counts as lost. */
  leaseMs: number;
  /** How many attempts may wait for their code to start at once (none: no bound). */
  maxWaiting?: number | null;
}

export interface ExecutorRecord extends Omit<ExecutorRegistration, 'leaseMs'> {
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
      e.leaseMs,
      e.maxWaiting ?? null,
    ]);
  }

  /** `waiting`: of the running attempts, those whose code has not started yet. */
  async heartbeat(id: string, running: number, waiting = 0): Promise<void> {
    await this.db.query(sql.HEARTBEAT_EXECUTOR, [id, running, waiting]);
  }

  async stop(id: string): Promise<void> {
    await this.db.query(sql.STOP_EXECUTOR, [id]);
  }

  /** The ids of the live executors serving each of `topics` (a topic nobody serves is absent). */
  async liveByTopic(topics: string[]): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ topic: string; executors: string[] }>(
      sql.LIVE_EXECUTORS_BY_TOPIC,
      [topics],
    );
    return new Map(rows.map((r) => [r.topic, r.executors]));
  }

  /** Every registered executor with its state (see EXECUTOR_IS_ALIVE). */
  async list(): Promise<ExecutorRecord[]> {
    const { rows } = await this.db.query(sql.LIST_EXECUTORS);
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

  /** Forgets executors stopped or unheard of for longer than `afterMs`; their ids. */
  async prune(afterMs: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(sql.PRUNE_EXECUTORS, [afterMs]);
    return rows.map((r) => r.id);
  }
}
