/**
 * Reading danube.events in order (see migrations/0004_events.sql for why the order is
 * (tx, seq) and not seq alone). One statement, so one snapshot: the page, and the position
 * up to which every event is final (the horizon), which a reader whose filter matched
 * nothing can move its cursor to.
 */
export const READ_EVENTS = `
  WITH horizon AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
  ), page AS (
    SELECT e.seq, e.tx, e.type, e.job_id, e.workflow_id, e.topic, e.attempt, e.data, e.created_at
    FROM danube.events e
    WHERE (e.tx, e.seq) > ($1::xid8, $2::bigint)
      AND e.tx < (SELECT xmin FROM horizon)
      AND e.tenant = $7
      AND ($3::text IS NULL OR e.topic = $3)
      AND ($4::bigint IS NULL OR e.job_id = $4)
      AND ($5::bigint IS NULL OR e.workflow_id = $5)
    ORDER BY e.tx, e.seq
    LIMIT $6
  ), last_final AS (
    SELECT e.tx, e.seq FROM danube.events e
    WHERE e.tx < (SELECT xmin FROM horizon)
    ORDER BY e.tx DESC, e.seq DESC
    LIMIT 1
  )
  SELECT 'event' AS kind, p.seq, p.tx, p.type, p.job_id, p.workflow_id, p.topic,
         p.attempt, p.data, p.created_at
  FROM page p
  UNION ALL
  SELECT 'horizon', l.seq, l.tx, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM last_final l
  ORDER BY kind, tx, seq`;
