-- Up Migration
-- Retention deletes each webhook's finished deliveries once its tenant's default policy no
-- longer keeps them: this index reads only the old ones. One entry per delivery, written
-- when the scanner creates it (not on the job path).
CREATE INDEX webhook_deliveries_by_age ON danube.webhook_deliveries (webhook_id, created_at, id);
