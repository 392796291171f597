/** Every statement on danube.audit_log: appended by the API, read by admins. */

export const INSERT_AUDIT = `
  INSERT INTO danube.audit_log (key_id, tenant, action, target, details) VALUES ($1, $2, $3, $4, $5)`;

/** Newest first, keyset-paginated on id; $1 NULL reads every tenant. */
export const LIST_AUDIT = `
  SELECT id, at, key_id, tenant, action, target, details FROM danube.audit_log
  WHERE ($1::text IS NULL OR tenant = $1) AND ($2::bigint IS NULL OR id < $2)
  ORDER BY id DESC
  LIMIT $3`;
