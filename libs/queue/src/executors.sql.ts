/**
 * The executor fleet registry: register at start, heartbeat, mark stopped at shutdown,
 * forget long gone ones.
 */

/**
 * An executor `e` is alive while it heartbeats: not stopped, and its last heartbeat younger
 * than its lease (lease_ms). Past that its leases expire and its jobs are reaped, so it is
 * lost (killed, paused, or cut off from the database) until it heartbeats again.
 */
export const EXECUTOR_IS_ALIVE = `(e.stopped_at IS NULL AND e.heartbeat_at >= now() - e.lease_ms * interval '1 millisecond')`;

export const REGISTER_EXECUTOR = `
  INSERT INTO danube.executors (id, topics, host, pid, version, runtime, capacity, lease_ms, max_waiting)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (id) DO UPDATE SET
    topics = EXCLUDED.topics, host = EXCLUDED.host, pid = EXCLUDED.pid,
    version = EXCLUDED.version, runtime = EXCLUDED.runtime, capacity = EXCLUDED.capacity,
    lease_ms = EXCLUDED.lease_ms, max_waiting = EXCLUDED.max_waiting,
    running = 0, waiting = 0, started_at = now(), heartbeat_at = now(), stopped_at = NULL`;

export const HEARTBEAT_EXECUTOR = `
  UPDATE danube.executors SET heartbeat_at = now(), running = $2, waiting = $3 WHERE id = $1`;

export const STOP_EXECUTOR = `
  UPDATE danube.executors SET stopped_at = now(), running = 0, waiting = 0 WHERE id = $1`;

/** Every executor with its liveness: alive, stopped once it said so, or lost. */
export const LIST_EXECUTORS = `
  SELECT id, topics, host, pid, version, runtime, capacity, running, started_at, heartbeat_at,
         stopped_at,
         CASE WHEN e.stopped_at IS NOT NULL THEN 'stopped'
              WHEN ${EXECUTOR_IS_ALIVE} THEN 'alive'
              ELSE 'lost' END AS state
  FROM danube.executors e
  ORDER BY stopped_at IS NOT NULL, id`;

/**
 * The live executors serving each topic in $1, or every topic ('ALL'): a topic missing
 * from the answer has nobody to run its jobs.
 */
export const LIVE_EXECUTORS_BY_TOPIC = `
  SELECT t.topic, array_agg(e.id ORDER BY e.id) AS executors
  FROM unnest($1::text[]) AS t(topic)
  JOIN danube.executors e
    ON ${EXECUTOR_IS_ALIVE} AND (t.topic = ANY(e.topics) OR 'ALL' = ANY(e.topics))
  GROUP BY t.topic`;

/**
 * Forgets the executors that stopped, or were last heard of, more than $1 ms ago (their
 * attempts' records keep their names). Returns their ids.
 */
export const PRUNE_EXECUTORS = `
  DELETE FROM danube.executors e
  WHERE coalesce(e.stopped_at, e.heartbeat_at) < now() - $1 * interval '1 millisecond'
  RETURNING e.id`;
