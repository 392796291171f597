/**
 * A background chore of the API processes, run by graphile-worker: each job of it runs on
 * exactly one replica, and a job that throws is retried with graphile-worker's backoff.
 */
export interface HousekeepingTask {
  /** The graphile-worker task identifier. */
  readonly name: string;
  /**
   * When the chore recurs by the clock: graphile-worker's crontab timing (5 fields, UTC).
   * graphile-worker starts each due run on one replica only.
   */
  readonly cron?: string;
  /**
   * A chore that keeps itself going (it adds its own next job, under its name as job key):
   * started when each replica starts, and its cron, if any, restarts it should it stop.
   */
  readonly loop?: boolean;
  run(payload: unknown, attempt: HousekeepingAttempt): Promise<void>;
}

export interface HousekeepingAttempt {
  /** This attempt's number, from 1. */
  attempt: number;
  maxAttempts: number;
}

/** Where other modules ask for a chore to run: a job added, or moved when it has a key. */
export interface HousekeepingJobOptions {
  runAt?: Date;
  /** One pending job per key: adding again moves it (graphile-worker's job_key). */
  jobKey?: string;
  /**
   * With a jobKey: a pending job keeps its time (graphile-worker's preserve_run_at). A loop
   * adds its own next run so, and a wake-up added meanwhile is not pushed back.
   */
  keepPendingTime?: boolean;
  maxAttempts?: number;
}
