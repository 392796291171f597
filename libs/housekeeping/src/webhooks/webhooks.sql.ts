import { HOUSEKEEPING_SCHEMA } from '../housekeeping.runner';

/**
 * Every statement on danube.webhooks and danube.webhook_deliveries. What the API runs
 * names the caller's tenant; what the chores run (scan, deliver) works across tenants.
 */

/** A tenant may have this many webhooks: each event of it is matched against all of them. */
export const MAX_WEBHOOKS_PER_TENANT = 100;

/** Inserts nothing when the tenant already has MAX_WEBHOOKS_PER_TENANT. */
export const INSERT_WEBHOOK = `
  INSERT INTO danube.webhooks (id, tenant, url, events, topic, max_attempts,
    secret_key_id, secret_nonce, secret_ciphertext, secret_auth_tag)
  SELECT $1, $2, $3, $4::text[], $5, $6, $7, $8, $9, $10
  WHERE (SELECT count(*) FROM danube.webhooks WHERE tenant = $2) < ${MAX_WEBHOOKS_PER_TENANT}
  RETURNING id, url, events, topic, max_attempts, created_at`;

export const LIST_WEBHOOKS = `
  SELECT id, url, events, topic, max_attempts, created_at FROM danube.webhooks
  WHERE tenant = $1 ORDER BY created_at, id`;

export const GET_WEBHOOK = `
  SELECT id, url, events, topic, max_attempts, created_at FROM danube.webhooks
  WHERE tenant = $1 AND id = $2`;

/** Its deliveries go with it (ON DELETE CASCADE); their pending jobs then find nothing to do. */
export const DELETE_WEBHOOK = `
  DELETE FROM danube.webhooks WHERE tenant = $1 AND id = $2
  RETURNING id, url, events, topic, max_attempts, created_at`;

/** Newest first, by id; the webhook is the caller's (checked in the same statement). */
export const LIST_DELIVERIES = `
  SELECT d.id, d.webhook_id, d.event_seq, d.type, d.payload, d.status, d.attempts,
         d.max_attempts, d.last_status_code, d.last_error, d.created_at, d.last_attempt_at,
         d.delivered_at
  FROM danube.webhook_deliveries d
  JOIN danube.webhooks w ON w.id = d.webhook_id
  WHERE w.tenant = $1 AND d.webhook_id = $2 AND ($3::bigint IS NULL OR d.id < $3)
  ORDER BY d.id DESC
  LIMIT $4`;

/**
 * One scanner at a time, across replicas: the cron run and the self-scheduled run can
 * overlap. Taken before the scan statement and without writing, so that this transaction
 * has no id of its own when the scan takes its snapshot.
 */
/** Whether any tenant has a webhook: the scanner sleeps longer while none does. */
export const ANY_WEBHOOK = `SELECT EXISTS (SELECT 1 FROM danube.webhooks) AS any`;

export const TRY_SCAN_LOCK = `SELECT pg_try_advisory_xact_lock(hashtext('danube.webhook_scan')) AS locked`;

/**
 * One step of the scanner, one statement (so one snapshot), in the scanner's transaction:
 *
 * - Reads events after the cursor in (tx, seq) order, and only those of transactions older
 *   than every one still running (pg_snapshot_xmin): the rule of events.sql.ts, without
 *   which an event committed late behind a higher seq would be passed over for good.
 * - Keeps those that some webhook wants (its tenant, a kind it asked for, its topic, a
 *   transaction after its own), up to $1 of them: a bounded page.
 * - Stores a delivery per (webhook, event), skipping any stored before (the unique key),
 *   and adds a graphile-worker job for each new one, in this same transaction: a delivery
 *   exists exactly when its job does. The jobs go in with one add_jobs call, not add_job
 *   per delivery: add_job notifies once per call, so a page of 200 deliveries would wake
 *   every worker 200 times. Each webhook's jobs share a graphile-worker queue, so they run
 *   one at a time and an endpoint that hangs holds one worker, not all of them.
 * - Moves the cursor: to the last event read when the page is full (more may follow at
 *   once), else to the horizon, the last event that is final, since everything up to it
 *   has been seen.
 *
 * The page starts at the oldest webhook's creation when that is past the cursor: nothing
 * before it can match, so a cursor left behind is not walked over event by event.
 *
 * $1 page size, $2 event types, $3 their kinds (parallel to $2), $4 the deliver task.
 */
export const SCAN_EVENTS = `
  WITH horizon AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
  ), kinds AS MATERIALIZED (
    SELECT k.type, k.kind FROM unnest($2::text[], $3::text[]) AS k(type, kind)
  ), start AS MATERIALIZED (
    SELECT CASE WHEN o.tx > c.tx THEN o.tx ELSE c.tx END AS tx,
           CASE WHEN o.tx > c.tx THEN 0 ELSE c.seq END AS seq
    FROM danube.webhook_cursor c
    CROSS JOIN (SELECT min(created_tx) AS tx FROM danube.webhooks) o
  ), page AS MATERIALIZED (
    SELECT e.seq, e.tx, e.type, e.tenant, e.topic, e.job_id, e.workflow_id, e.attempt,
           e.data, e.created_at
    FROM danube.events e
    WHERE (e.tx, e.seq) > ((SELECT tx FROM start), (SELECT seq FROM start))
      AND e.tx < (SELECT xmin FROM horizon)
      AND EXISTS (
        SELECT 1 FROM danube.webhooks w JOIN kinds k ON k.kind = ANY (w.events)
        WHERE w.tenant = e.tenant AND k.type = e.type AND e.tx > w.created_tx
          AND (w.topic IS NULL OR w.topic = e.topic))
    ORDER BY e.tx, e.seq
    LIMIT $1
  ), matched AS (
    SELECT w.id AS webhook_id, w.max_attempts, k.kind, p.*
    FROM page p
    JOIN kinds k ON k.type = p.type
    JOIN danube.webhooks w
      ON w.tenant = p.tenant AND k.kind = ANY (w.events) AND p.tx > w.created_tx
     AND (w.topic IS NULL OR w.topic = p.topic)
  ), inserted AS (
    -- In event order, so that delivery ids follow it.
    INSERT INTO danube.webhook_deliveries (webhook_id, event_seq, type, payload, max_attempts)
    SELECT m.webhook_id, m.seq, m.kind,
           json_build_object(
             'id', m.seq::text,
             'type', m.kind,
             'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'data', jsonb_strip_nulls(jsonb_build_object(
                       'jobId', m.job_id::text,
                       'workflowId', m.workflow_id::text,
                       'topic', m.topic,
                       'attempt', m.attempt,
                       'status', CASE WHEN m.type LIKE 'job\\_%' OR m.type LIKE 'workflow\\_%'
                                      THEN substr(m.type, strpos(m.type, '_') + 1) END))
                     || coalesce(m.data, '{}'::jsonb)),
           m.max_attempts
    FROM matched m
    ORDER BY m.tx, m.seq, m.webhook_id
    ON CONFLICT (webhook_id, event_seq) DO NOTHING
    RETURNING id, webhook_id, max_attempts
  ), specs AS (
    -- run_at a microsecond apart in event order: graphile-worker takes a queue's jobs by
    -- run_at alone, so jobs due at the same instant would go in any order.
    SELECT array_agg(ROW(
             $4, json_build_object('deliveryId', i.id::text), 'webhook:' || i.webhook_id,
             now() + i.ordinal * interval '1 microsecond', i.max_attempts, NULL, NULL, NULL
           )::${HOUSEKEEPING_SCHEMA}.job_spec ORDER BY i.ordinal) AS specs
    FROM (SELECT d.*, row_number() OVER (ORDER BY d.id) AS ordinal FROM inserted d) i
  ), queued AS (
    -- Not called at all when nothing was inserted: add_jobs notifies even for none.
    SELECT count(j.id) AS n
    FROM specs s CROSS JOIN LATERAL ${HOUSEKEEPING_SCHEMA}.add_jobs(s.specs) j
    WHERE s.specs IS NOT NULL
  ), next_position AS (
    SELECT tx, seq FROM (
      SELECT p.tx, p.seq FROM page p WHERE (SELECT count(*) FROM page) = $1
      UNION ALL
      SELECT f.tx, f.seq FROM (
        SELECT e.tx, e.seq FROM danube.events e
        WHERE e.tx < (SELECT xmin FROM horizon)
        ORDER BY e.tx DESC, e.seq DESC
        LIMIT 1
      ) f
      WHERE (SELECT count(*) FROM page) < $1
    ) n
    ORDER BY tx DESC, seq DESC
    LIMIT 1
  ), moved AS (
    UPDATE danube.webhook_cursor c SET tx = n.tx, seq = n.seq, updated_at = now()
    FROM next_position n
    WHERE (n.tx, n.seq) > (c.tx, c.seq)
    RETURNING c.tx
  )
  SELECT (SELECT count(*) FROM page)::int AS events,
         coalesce((SELECT n FROM queued), 0)::int AS deliveries,
         (SELECT count(*) FROM moved)::int AS moved`;

/** What a delivery job needs: the delivery, and its webhook's URL and sealed secret. */
export const DELIVERY_TARGET = `
  SELECT d.id, d.status, d.payload, d.webhook_id, w.tenant, w.url,
         w.secret_key_id, w.secret_nonce, w.secret_ciphertext, w.secret_auth_tag
  FROM danube.webhook_deliveries d
  JOIN danube.webhooks w ON w.id = d.webhook_id
  WHERE d.id = $1`;

/**
 * One try of a delivery, recorded; only while it is pending, so a job that runs again
 * after the delivery ended changes nothing.
 */
export const RECORD_ATTEMPT = `
  UPDATE danube.webhook_deliveries
  SET attempts = GREATEST(attempts, $2),
      status = $3,
      last_status_code = $4,
      last_error = $5,
      last_attempt_at = now(),
      delivered_at = CASE WHEN $3 = 'delivered' THEN now() END
  WHERE id = $1 AND status = 'pending'`;
