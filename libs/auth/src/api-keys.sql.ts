/** Every statement on danube.api_keys. Keys are looked up by the SHA-256 of the whole key. */

const KEY_COLUMNS = `k.id, k.tenant, k.name, k.role, k.prefix, k.created_by, k.created_at, k.expires_at, k.revoked_at`;

export const INSERT_API_KEY = `
  INSERT INTO danube.api_keys AS k (tenant, name, role, prefix, key_hash, created_by, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  RETURNING ${KEY_COLUMNS}`;

/** The key a request presents, if it is neither revoked nor expired. */
export const SELECT_USABLE_KEY = `
  SELECT ${KEY_COLUMNS} FROM danube.api_keys k
  WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`;

/** Newest first; $1 NULL lists every tenant's keys. */
export const LIST_API_KEYS = `
  SELECT ${KEY_COLUMNS} FROM danube.api_keys k
  WHERE ($1::text IS NULL OR k.tenant = $1)
  ORDER BY k.id DESC`;

/** Revokes a key (again: a revoked key keeps its first revocation time). */
export const REVOKE_API_KEY = `
  UPDATE danube.api_keys k SET revoked_at = coalesce(k.revoked_at, now())
  WHERE k.id = $1
  RETURNING ${KEY_COLUMNS}`;
