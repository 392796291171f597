import { status } from '@grpc/grpc-js';
import { JobServiceError } from '@danube/sdk';
import { reason } from './output-files';
import { oneLine, seconds } from './collection-summary';

/**
 * How the collector calls the JobService: each call is sent until it gets through, is
 * refused, or the deadline leaves no time to try again; refusals every further call would
 * get too end the collection at once, and connection trouble is retried with backoff.
 */

/**
 * Refusals every further call would get too (a token that is not accepted, a job that is
 * gone or no longer running this attempt, no JobService at that address): stop at once.
 */
const STOP_AT_ONCE = new Set<status>([
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.UNIMPLEMENTED,
]);

/** A try needs at least this long before the deadline to be worth starting. */
const MIN_TRY_MS = 100;

/** Why the collection stopped before everything was sent. */
export type Stop =
  /** Calls kept failing in transit (UNAVAILABLE, DEADLINE_EXCEEDED) until the deadline. */
  | { kind: 'unreachable' }
  /** A refusal every further call would get too. */
  | { kind: 'refused'; code: string; message: string }
  /** The deadline passed while calls were still getting through. */
  | { kind: 'out-of-time' };

export type CallOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; stopped: true }
  /** Refused for this output only: the others are still worth sending. */
  | { ok: false; stopped: false; why: string };

/** What the calls so far came to: for the collector's last line. */
export interface CallRecord {
  stop: Stop | null;
  tries: number;
  answered: number;
  /** Transient failures by code, with the last message of each. */
  transient: ReadonlyMap<string, { count: number; last: string }>;
}

export class CallPolicy implements CallRecord {
  stop: Stop | null = null;
  tries = 0;
  answered = 0;
  readonly transient = new Map<string, { count: number; last: string }>();

  constructor(
    /** When calls stop (Date.now() clock). */
    private readonly deadline: number,
    private readonly backoff: { initialMs: number; maxMs: number },
    private readonly address: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Sends until the call gets through, is refused, or the deadline leaves no time to retry. */
  async call<T>(send: () => Promise<T>, doing: string): Promise<CallOutcome<T>> {
    let delay = this.backoff.initialMs;
    for (let failures = 0; ; failures++) {
      if (Date.now() + MIN_TRY_MS > this.deadline) {
        this.stop = failures > 0 ? { kind: 'unreachable' } : { kind: 'out-of-time' };
        return { ok: false, stopped: true };
      }
      this.tries++;
      try {
        const value = await send();
        this.answered++;
        return { ok: true, value };
      } catch (error) {
        const failure = classify(error);
        if (failure.kind === 'stop') {
          this.stop = { kind: 'refused', code: failure.code, message: failure.message };
          return { ok: false, stopped: true };
        }
        if (failure.kind === 'output') {
          this.answered++;
          return { ok: false, stopped: false, why: failure.why };
        }
        const seen = this.transient.get(failure.code) ?? { count: 0, last: '' };
        this.transient.set(failure.code, { count: seen.count + 1, last: failure.message });
        // Use what time is left for one more try rather than give up early.
        const wait = Math.min(
          delay * (0.5 + Math.random() / 2),
          this.deadline - Date.now() - MIN_TRY_MS,
        );
        if (wait < 0) {
          this.stop = { kind: 'unreachable' };
          return { ok: false, stopped: true };
        }
        this.warn(
          `${failure.code} from the JobService at ${this.address} while ${doing} (${oneLine(failure.message)}); trying again in ${seconds(wait)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }
}

type Failure =
  | { kind: 'transient'; code: string; message: string }
  | { kind: 'stop'; code: string; message: string }
  | { kind: 'output'; why: string };

/** Connection trouble the kernel reports itself, should one get past grpc-js. */
const NETWORK_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function classify(error: unknown): Failure {
  if (error instanceof JobServiceError) {
    const code = status[error.code] ?? String(error.code);
    // grpc-js ends connection errors with an empty "Resolution note:".
    const message = error.message.replace(/\s*Resolution note:\s*$/, '');
    if (
      error.code === status.UNAVAILABLE ||
      error.code === status.DEADLINE_EXCEEDED ||
      // A stream reset by a proxy or a dropped connection, not an answer of the JobService.
      (error.code === status.INTERNAL && message.startsWith('Received RST_STREAM'))
    ) {
      return { kind: 'transient', code, message };
    }
    if (STOP_AT_ONCE.has(error.code)) return { kind: 'stop', code, message };
    return { kind: 'output', why: `${code}: ${message}` };
  }
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (errno && NETWORK_ERRNOS.has(errno)) {
    return { kind: 'transient', code: errno, message: reason(error) };
  }
  // The file itself: it vanished, or the collector may not read it.
  return { kind: 'output', why: `could not be read: ${reason(error)}` };
}
