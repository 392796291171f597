/** The largest Postgres bigint: job, workflow and artifact ids are bigint identities. */
export const MAX_ID = 9223372036854775807n;

/** A positive bigint written plainly (no sign, no leading zero, in range): a storable id. */
export function isId(value: string): boolean {
  return /^[1-9]\d{0,18}$/.test(value) && BigInt(value) <= MAX_ID;
}
