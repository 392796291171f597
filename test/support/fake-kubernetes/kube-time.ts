/** A Kubernetes object timestamp (metav1.Time): RFC 3339, whole seconds. */
export function timestamp(at = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Epoch milliseconds with a sub-millisecond fraction, never going backwards. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano), as log timestamps are. */
export function rfc3339Nano(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const seconds = new Date(wholeMs).toISOString().slice(0, 19);
  const nanos = Math.round((epochMs - Math.floor(epochMs / 1000) * 1000) * 1e6);
  const fraction = String(Math.min(nanos, 999_999_999)).padStart(9, '0').replace(/0+$/, '');
  return `${seconds}${fraction ? `.${fraction}` : ''}Z`;
}
