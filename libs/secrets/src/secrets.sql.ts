/**
 * Every statement on danube.secrets. Values go in and out encrypted only; every statement
 * names the tenant, whose secrets alone it reads or changes.
 */

export const UPSERT_SECRET = `
  INSERT INTO danube.secrets AS s (name, key_id, nonce, ciphertext, auth_tag, tenant)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (tenant, name) DO UPDATE SET
    key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,
    auth_tag = EXCLUDED.auth_tag, updated_at = now()
  RETURNING s.name, s.created_at, s.updated_at, (xmax = 0) AS created`;

export const LIST_SECRETS = `
  SELECT name, key_id, created_at, updated_at FROM danube.secrets WHERE tenant = $1 ORDER BY name`;

export const DELETE_SECRET = `DELETE FROM danube.secrets WHERE tenant = $2 AND name = $1 RETURNING name`;

export const SELECT_SEALED_SECRETS = `
  SELECT name, key_id, nonce, ciphertext, auth_tag FROM danube.secrets
  WHERE tenant = $2 AND name = ANY($1::text[])`;
