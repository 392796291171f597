/** The executor fleet registry: register at start, heartbeat, mark stopped at shutdown. */

export const REGISTER_EXECUTOR = `
  INSERT INTO danube.executors (id, topics, host, pid, version, runtime, capacity)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (id) DO UPDATE SET
    topics = EXCLUDED.topics, host = EXCLUDED.host, pid = EXCLUDED.pid,
    version = EXCLUDED.version, runtime = EXCLUDED.runtime, capacity = EXCLUDED.capacity,
    running = 0, started_at = now(), heartbeat_at = now(), stopped_at = NULL`;

export const HEARTBEAT_EXECUTOR = `
  UPDATE danube.executors SET heartbeat_at = now(), running = $2 WHERE id = $1`;

export const STOP_EXECUTOR = `
  UPDATE danube.executors SET stopped_at = now(), running = 0 WHERE id = $1`;

/**
 * Every executor with its liveness: alive while it heartbeats, stopped once it said so,
 * lost when its heartbeat is older than $1 ms (killed, or cut off from the database).
 */
export const LIST_EXECUTORS = `
  SELECT id, topics, host, pid, version, runtime, capacity, running, started_at, heartbeat_at,
         stopped_at,
         CASE WHEN stopped_at IS NOT NULL THEN 'stopped'
              WHEN heartbeat_at < now() - $1 * interval '1 millisecond' THEN 'lost'
              ELSE 'alive' END AS state
  FROM danube.executors
  ORDER BY stopped_at IS NOT NULL, id`;

/**
 * The live executors (heartbeat within $1 ms, not stopped) serving each topic in $2, or
 * every topic ('ALL'): a topic missing from the answer has nobody to run its jobs.
 */
export const LIVE_EXECUTORS_BY_TOPIC = `
  SELECT t.topic, array_agg(e.id ORDER BY e.id) AS executors
  FROM unnest($2::text[]) AS t(topic)
  JOIN danube.executors e
    ON e.stopped_at IS NULL AND e.heartbeat_at >= now() - $1 * interval '1 millisecond'
   AND (t.topic = ANY(e.topics) OR 'ALL' = ANY(e.topics))
  GROUP BY t.topic`;
