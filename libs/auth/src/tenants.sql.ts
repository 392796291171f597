/** Every statement on danube.tenants and danube.image_rules. */

const TENANT_COLUMNS = `t.name, t.max_running, t.max_running_by_class, t.max_queued, t.max_timeout_seconds, t.created_at`;

export const INSERT_TENANT = `
  INSERT INTO danube.tenants AS t (name, max_running, max_running_by_class, max_queued, max_timeout_seconds)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (name) DO NOTHING
  RETURNING ${TENANT_COLUMNS}`;

export const SELECT_TENANT = `SELECT ${TENANT_COLUMNS} FROM danube.tenants t WHERE t.name = $1`;

export const LIST_TENANTS = `SELECT ${TENANT_COLUMNS} FROM danube.tenants t ORDER BY t.name`;

/** Sets the quotas named in $2 (a JSON object of column names to values; null clears). */
export const UPDATE_TENANT_QUOTAS = `
  UPDATE danube.tenants t SET
    max_running = CASE WHEN $2::jsonb ? 'max_running' THEN ($2::jsonb->>'max_running')::integer ELSE t.max_running END,
    max_running_by_class = CASE WHEN $2::jsonb ? 'max_running_by_class' THEN $2::jsonb->'max_running_by_class' ELSE t.max_running_by_class END,
    max_queued = CASE WHEN $2::jsonb ? 'max_queued' THEN ($2::jsonb->>'max_queued')::integer ELSE t.max_queued END,
    max_timeout_seconds = CASE WHEN $2::jsonb ? 'max_timeout_seconds' THEN ($2::jsonb->>'max_timeout_seconds')::integer ELSE t.max_timeout_seconds END,
    updated_at = now()
  WHERE t.name = $1
  RETURNING ${TENANT_COLUMNS}`;

const RULE_COLUMNS = `r.id, r.tenant, r.topic, r.pattern, r.pull_secret, r.created_at`;

export const INSERT_IMAGE_RULE = `
  INSERT INTO danube.image_rules AS r (tenant, topic, pattern, pull_secret)
  VALUES ($1, $2, $3, $4)
  RETURNING ${RULE_COLUMNS}`;

export const LIST_IMAGE_RULES = `
  SELECT ${RULE_COLUMNS} FROM danube.image_rules r WHERE r.tenant = $1 ORDER BY r.id`;

export const DELETE_IMAGE_RULE = `
  DELETE FROM danube.image_rules r WHERE r.tenant = $1 AND r.id = $2 RETURNING ${RULE_COLUMNS}`;

/**
 * Submissions to a tenant with a queued-jobs cap take turns (the lock lasts until the
 * transaction ends), so that two submitting at once cannot both fit under the cap.
 */
export const LOCK_TENANT_SUBMISSIONS = `SELECT pg_advisory_xact_lock(hashtext('danube.submit/' || $1))`;

/**
 * The tenant's queued jobs, counted up to $2 (enough to compare with its cap): the topics
 * with queued jobs by a loose index scan over jobs_claim, then each topic's range for the
 * tenant, so that the count costs at most the cap, not the queue.
 */
export const COUNT_QUEUED_UP_TO = `
  WITH RECURSIVE topics(topic) AS (
    (SELECT topic FROM danube.jobs WHERE status = 'queued' ORDER BY topic LIMIT 1)
    UNION ALL
    SELECT (SELECT q.topic FROM danube.jobs q WHERE q.status = 'queued' AND q.topic > t.topic ORDER BY q.topic LIMIT 1)
    FROM topics t WHERE t.topic IS NOT NULL
  )
  SELECT count(*)::integer AS queued FROM (
    SELECT 1 FROM topics t
    CROSS JOIN LATERAL (
      SELECT 1 FROM danube.jobs q WHERE q.status = 'queued' AND q.topic = t.topic AND q.tenant = $1 LIMIT $2
    ) x
    WHERE t.topic IS NOT NULL
    LIMIT $2
  ) c`;
