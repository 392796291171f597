-- Up Migration
-- Danube as a shared service: tenants with quotas, API keys, image rules, an audit log;
-- events and secrets carry their tenant; the claim enforces quotas and shares the fleet
-- fairly between tenants (danube.claim_jobs).

CREATE TABLE danube.tenants (
  name                 text PRIMARY KEY,
  -- Quotas; NULL means no limit. max_running_by_class maps a task class to its cap,
  -- e.g. {"gpu": 2}.
  max_running          integer CHECK (max_running >= 0),
  max_running_by_class jsonb NOT NULL DEFAULT '{}',
  max_queued           integer CHECK (max_queued >= 0),
  max_timeout_seconds  integer CHECK (max_timeout_seconds >= 1),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_name_valid CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);
INSERT INTO danube.tenants (name) VALUES ('default');
INSERT INTO danube.tenants (name)
  SELECT DISTINCT tenant FROM danube.jobs WHERE tenant ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
  ON CONFLICT DO NOTHING;

-- Keys are stored as the SHA-256 of the whole key; the plaintext is shown once, at creation.
CREATE TABLE danube.api_keys (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant     text NOT NULL REFERENCES danube.tenants (name),
  name       text NOT NULL,
  role       text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  -- The key's first characters, to recognise it in listings and logs.
  prefix     text NOT NULL,
  key_hash   bytea NOT NULL UNIQUE,
  created_by bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_by_tenant ON danube.api_keys (tenant, id);

-- Images a tenant's jobs may run on the kubernetes runtime. A tenant without rules may run
-- any image; with rules, only an image matching one (for the job's topic, or for every
-- topic when topic is NULL). pattern is a glob: * matches any run of characters.
CREATE TABLE danube.image_rules (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant      text NOT NULL REFERENCES danube.tenants (name) ON DELETE CASCADE,
  topic       text,
  pattern     text NOT NULL,
  pull_secret text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX image_rules_by_tenant ON danube.image_rules (tenant);

-- Who did what: key id (NULL when auth is off or for the server itself), in which tenant.
CREATE TABLE danube.audit_log (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  key_id  bigint,
  tenant  text NOT NULL,
  action  text NOT NULL,
  target  text,
  details jsonb
);
CREATE INDEX audit_log_by_tenant ON danube.audit_log (tenant, id);

-- Secrets are per tenant. Existing secrets belong to 'default' and keep their ciphertext
-- (bound to the name alone); secrets of other tenants are bound to tenant and name.
ALTER TABLE danube.secrets ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE danube.secrets DROP CONSTRAINT secrets_pkey;
ALTER TABLE danube.secrets ADD PRIMARY KEY (tenant, name);
ALTER TABLE danube.secrets ALTER COLUMN tenant DROP DEFAULT;

-- The claim path, by tenant and task class within a topic: a claim reads each tenant's
-- queue in its own order and takes from each within its quota (see claim_jobs).
DROP INDEX danube.jobs_claim;
CREATE INDEX jobs_claim ON danube.jobs (topic, tenant, task_class, priority DESC, run_at, id)
  WHERE status = 'queued';
-- Running jobs by tenant and class, for quotas and fair share: bounded by the fleet's size.
CREATE INDEX jobs_running_by_tenant ON danube.jobs (tenant, task_class)
  WHERE status IN ('claimed', 'running');
-- Usage reports read attempts by the time they ended; executions are appended in that
-- order, which a BRIN index serves at almost no cost per row.
CREATE INDEX executions_finished_at ON danube.executions USING brin (finished_at);

-- Events carry the tenant of their job or workflow, so that each tenant reads its own.
ALTER TABLE danube.events ADD COLUMN tenant text;
UPDATE danube.events e SET tenant = j.tenant FROM danube.jobs j WHERE j.id = e.job_id;
UPDATE danube.events e SET tenant = w.tenant FROM danube.workflows w
  WHERE e.tenant IS NULL AND w.id = e.workflow_id;

CREATE OR REPLACE FUNCTION danube.job_inserted_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO danube.events (type, job_id, workflow_id, topic, attempt, data, tenant)
  SELECT 'job_' || n.status, n.id, n.workflow_id, n.topic, n.attempts,
         jsonb_strip_nulls(jsonb_build_object('nodeName', n.node_name, 'parentJobId', n.parent_job_id)),
         n.tenant
  FROM new_jobs n
  ORDER BY n.id;
  RETURN NULL;
END $$;

-- As in 0005, with the tenant.
CREATE OR REPLACE FUNCTION danube.job_transition_events() RETURNS trigger
LANGUAGE plpgsql SET enable_nestloop = off AS $$
BEGIN
  INSERT INTO danube.events (type, job_id, workflow_id, topic, attempt, data, tenant)
  SELECT e.type, e.id, e.workflow_id, e.topic, e.attempts, e.data, e.tenant
  FROM (
    SELECT 1 AS ord, 'job_started' AS type, n.id, n.workflow_id, n.topic, n.attempts,
           NULL::jsonb AS data, n.tenant
    FROM new_jobs n JOIN old_jobs o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
      AND (n.status = 'running'
           OR (o.status = 'claimed' AND n.status IN ('succeeded', 'failed', 'timed_out')))
    UNION ALL
    SELECT 2,
           CASE WHEN n.status <> 'queued' THEN 'job_' || n.status
                WHEN o.status IN ('claimed', 'running') THEN 'job_retrying'
                ELSE 'job_queued' END,
           n.id, n.workflow_id, n.topic, n.attempts,
           jsonb_strip_nulls(jsonb_build_object(
             'from', o.status,
             'error', n.error,
             'retryAt', CASE WHEN n.status = 'queued' AND o.status IN ('claimed', 'running') THEN n.run_at END,
             'skipReason', n.skip_reason)),
           n.tenant
    FROM new_jobs n JOIN old_jobs o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status AND n.status NOT IN ('claimed', 'running')
  ) e
  ORDER BY e.id, e.ord;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION danube.workflow_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO danube.events (type, workflow_id, data, tenant)
    SELECT 'workflow_started', n.id, jsonb_build_object('name', n.name, 'nodeCount', n.node_count),
           n.tenant
    FROM new_workflows n ORDER BY n.id;
  ELSE
    INSERT INTO danube.events (type, workflow_id, data, tenant)
    SELECT CASE WHEN n.status = 'running' THEN 'workflow_retried' ELSE 'workflow_' || n.status END,
           n.id, jsonb_build_object('name', n.name, 'from', o.status, 'failedNodes', n.failed_nodes),
           n.tenant
    FROM new_workflows n JOIN old_workflows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
    ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;

-- Claims up to p_batch due jobs of the topics in p_topics for executor p_executor, with a
-- lease of p_lease_ms. Two statements, each with its own snapshot (a VOLATILE function's
-- statements each take a fresh one):
--
-- 1. Every tenant with a running cap and queued jobs on these topics is locked for the
--    rest of the transaction (an advisory lock per tenant, taken in name order). Two
--    executors claiming for the same capped tenant therefore take turns, and the second
--    counts the first's claims: a cap holds however many executors race.
-- 2. The claim. Each (topic, tenant, task class) queue with queued jobs is found by a
--    loose index scan over jobs_claim (one probe per queue, whatever its depth). Each
--    queue offers at most its room: the batch, less what the tenant's running cap and its
--    class cap leave. The offers are interleaved fairly: a tenant's n-th job ranks at
--    (jobs it runs now + n), so the tenant running least goes first; priority, then
--    run_at, then id order the jobs within a tenant and break ties. Running jobs are
--    counted only when a cap or a second tenant makes them matter.
--
-- The claim's plan is made once per connection (plan_cache_mode = force_generic_plan): a
-- custom plan per call cost more to make (about 1.3 ms) than the claim takes to run, and
-- the generic one is as good, every step being an index probe whatever the parameters.
CREATE FUNCTION danube.claim_jobs(p_topics text[], p_executor text, p_batch integer, p_lease_ms integer)
RETURNS SETOF danube.jobs LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  capped text;
BEGIN
  FOR capped IN
    SELECT t.name FROM danube.tenants t
    WHERE (t.max_running IS NOT NULL OR t.max_running_by_class <> '{}')
      AND EXISTS (
        SELECT 1 FROM unnest(p_topics) AS tp(topic)
        JOIN danube.jobs q ON q.status = 'queued' AND q.topic = tp.topic AND q.tenant = t.name)
    ORDER BY t.name
  LOOP
    PERFORM pg_advisory_xact_lock(hashtext('danube.claim/' || capped));
  END LOOP;

  RETURN QUERY
  WITH RECURSIVE queues(topic, tenant, task_class) AS (
    SELECT f.topic, f.tenant, f.task_class
    FROM unnest(p_topics) AS tp(topic)
    CROSS JOIN LATERAL (
      SELECT q.topic, q.tenant, q.task_class FROM danube.jobs q
      WHERE q.status = 'queued' AND q.topic = tp.topic
      ORDER BY q.tenant, q.task_class
      LIMIT 1
    ) f
    UNION ALL
    SELECT n.topic, n.tenant, n.task_class
    FROM queues p
    CROSS JOIN LATERAL (
      SELECT q.topic, q.tenant, q.task_class FROM danube.jobs q
      WHERE q.status = 'queued' AND q.topic = p.topic
        AND (q.tenant, q.task_class) > (p.tenant, p.task_class)
      ORDER BY q.tenant, q.task_class
      LIMIT 1
    ) n
  ), contenders AS (
    SELECT DISTINCT q.tenant FROM queues q
  ), tenant_use AS (
    SELECT c.tenant, t.max_running, coalesce(t.max_running_by_class, '{}') AS class_caps,
           CASE WHEN t.max_running IS NOT NULL OR t.max_running_by_class <> '{}'
                     OR (SELECT count(*) FROM contenders) > 1
                THEN (SELECT count(*) FROM danube.jobs r
                      WHERE r.tenant = c.tenant AND r.status IN ('claimed', 'running'))
                ELSE 0 END AS running
    FROM contenders c LEFT JOIN danube.tenants t ON t.name = c.tenant
  ), rooms AS (
    SELECT q.topic, q.tenant, q.task_class, u.running,
           u.max_running - u.running AS tenant_room,
           least(p_batch,
                 u.max_running - u.running,
                 CASE WHEN u.class_caps ? q.task_class THEN
                   (u.class_caps ->> q.task_class)::integer
                   - (SELECT count(*) FROM danube.jobs r
                      WHERE r.tenant = q.tenant AND r.task_class = q.task_class
                        AND r.status IN ('claimed', 'running'))::integer
                 END) AS room
    FROM queues q JOIN tenant_use u ON u.tenant = q.tenant
  ), offers AS (
    SELECT c.id, c.priority, c.run_at, r.tenant, r.running, r.tenant_room
    FROM rooms r
    CROSS JOIN LATERAL (
      SELECT q.id, q.priority, q.run_at FROM danube.jobs q
      WHERE q.status = 'queued' AND q.topic = r.topic AND q.tenant = r.tenant
        AND q.task_class = r.task_class AND q.run_at <= now()
      ORDER BY q.priority DESC, q.run_at, q.id
      LIMIT greatest(r.room, 0)
      FOR UPDATE SKIP LOCKED
    ) c
  ), ranked AS (
    SELECT o.*, row_number() OVER (
             PARTITION BY o.tenant ORDER BY o.priority DESC, o.run_at, o.id) AS turn
    FROM offers o
  ), chosen AS (
    SELECT k.id FROM ranked k
    WHERE k.tenant_room IS NULL OR k.turn <= k.tenant_room
    ORDER BY k.running + k.turn, k.priority DESC, k.run_at, k.id
    LIMIT p_batch
  )
  UPDATE danube.jobs j SET
    status = 'claimed',
    attempts = CASE WHEN j.runtime_ref IS NULL THEN j.attempts + 1 ELSE j.attempts END,
    lease_owner = p_executor,
    lease_token = gen_random_uuid(),
    lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
    claimed_at = now()
  -- An array of ids, not a join: the plan stays a primary-key lookup whatever the batch.
  WHERE j.id = ANY (ARRAY(SELECT c.id FROM chosen c))
  RETURNING j.*;
END $$;
