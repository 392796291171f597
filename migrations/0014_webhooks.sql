-- Up Migration
-- Webhooks: a tenant's URLs that are sent its job, workflow and schedule events.
--
-- The API's housekeeping (graphile-worker) scans danube.events after a cursor, in the
-- order and under the rule of events.sql.ts, and in one transaction stores a delivery per
-- (webhook, event), adds a graphile-worker job to send it, and moves the cursor. Each
-- delivery is unique per (webhook, event), so a scan that runs again adds nothing twice.
CREATE TABLE danube.webhooks (
  -- wh_ and 32 hex digits: not a counter, so ids say nothing about other tenants.
  id                text PRIMARY KEY,
  tenant            text NOT NULL REFERENCES danube.tenants (name),
  url               text NOT NULL,
  -- Event kinds as the API names them (job.succeeded, workflow.finished, ...).
  events            text[] NOT NULL CHECK (cardinality(events) > 0),
  -- Only events of this topic; NULL: every topic.
  topic             text,
  max_attempts      integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 20),
  -- The signing secret, AES-256-GCM under DANUBE_SECRET_KEY, bound to tenant and id.
  secret_key_id     text NOT NULL,
  secret_nonce      bytea NOT NULL,
  secret_ciphertext bytea NOT NULL,
  secret_auth_tag   bytea NOT NULL,
  -- The transaction that created the webhook: it is sent the events of later transactions
  -- only. A scan that cannot see the webhook yet has a horizon below this transaction, so
  -- it never moves the cursor past an event the webhook should get.
  created_tx        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_by_tenant ON danube.webhooks (tenant, created_at, id);

CREATE TABLE danube.webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id       text NOT NULL REFERENCES danube.webhooks (id) ON DELETE CASCADE,
  event_seq        bigint NOT NULL,
  -- The event kind, as in the payload's "type".
  type             text NOT NULL,
  -- The body sent, as built at the scan: json, not jsonb, so its keys keep their order.
  payload          json NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_attempt_at  timestamptz,
  delivered_at     timestamptz,
  CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_seq)
);
-- A webhook's delivery log, newest first.
CREATE INDEX webhook_deliveries_by_webhook ON danube.webhook_deliveries (webhook_id, id);

-- How far the scanner has read danube.events: one row. It starts at the events of
-- transactions still running now; no webhook exists yet to want older ones.
CREATE TABLE danube.webhook_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  tx         xid8 NOT NULL,
  seq        bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO danube.webhook_cursor (tx, seq) VALUES (pg_snapshot_xmin(pg_current_snapshot()), 0);
