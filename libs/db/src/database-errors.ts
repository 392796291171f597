/**
 * What a failed query says about the database, for deciding between "try again later"
 * (503, UNAVAILABLE), "someone else holds the row" (409, ABORTED) and a bug (500).
 */

/** SQLSTATE classes and codes that mean the database, not the request, is the problem. */
const UNAVAILABLE_SQLSTATES = [
  /^08/, // connection exception
  /^53/, // insufficient resources (too many connections, disk full)
  /^57P0[1-4]/, // admin shutdown, crash shutdown, cannot connect now, database dropped
  /^58/, // system error (I/O)
];

/** Errors node and pg raise when the connection itself fails; they carry no SQLSTATE. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECTION_ERROR_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed',
  'Cannot use a pool after calling end',
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The database cannot be reached or is going away: the operation may succeed later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (CONNECTION_ERROR_CODES.has(code)) return true;
    if (UNAVAILABLE_SQLSTATES.some((pattern) => pattern.test(code))) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return CONNECTION_ERROR_MESSAGES.some((text) => message.includes(text));
}

/**
 * The statement gave up waiting for a row another session holds (lock_timeout), or was
 * chosen to break a deadlock: nothing was changed, and the same request may work later.
 */
export function isLockConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === '55P03' || code === '40P01' || code === '40001';
}
