import { lstat, readFile, stat } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { MAX_RESULT_BYTES } from '@danube/core';
import { JobServiceClient, JobServiceError, contentTypeOf } from '@danube/sdk';
import type { CollectorOptions } from './collector.config';
import { containedRealPath, listOutputFiles, reason, type OutputFile } from './output-files';

/** The largest result.json reported: the same limit as the process runtime's and ReportStatus's. */

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

export interface CollectOptions extends Omit<CollectorOptions, 'readyFile'> {
  /** Waits between tries of a call that did not get through: jittered, doubling up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * What became of the result file: there was none; reported; ignored because of what the
 * job wrote (not JSON, too big, not a file: logged, not a collector failure); failed
 * (refused or unreadable); pending (not sent before the collection stopped).
 */
export type ResultState = 'none' | 'reported' | 'ignored' | 'failed' | 'pending';

export interface CollectReport {
  /** Everything there was to deliver arrived. */
  ok: boolean;
  /** Artifact paths uploaded. */
  uploaded: string[];
  /** Outputs that did not arrive, and why. */
  notUploaded: { path: string; why: string }[];
  /** Entries left out on purpose (see listOutputFiles). */
  skipped: { path: string; why: string }[];
  result: ResultState;
  /** Calls made, retries included. */
  tries: number;
  elapsedMs: number;
  /** One line that says how it went, for the process's last line. */
  summary: string;
}

type Stop =
  /** Calls kept failing in transit (UNAVAILABLE, DEADLINE_EXCEEDED) until the deadline. */
  | { kind: 'unreachable' }
  /** A refusal every further call would get too. */
  | { kind: 'refused'; code: string; message: string }
  /** The deadline passed while calls were still getting through. */
  | { kind: 'out-of-time' };

type CallOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; stopped: true }
  /** Refused for this output only: the others are still worth sending. */
  | { ok: false; stopped: false; why: string };

/** Uploads every file in `outputDir`, then reports `resultFile`, within `deadlineMs`. */
export function collectOutputs(options: CollectOptions): Promise<CollectReport> {
  return new OutputCollector(options).collect();
}

/**
 * One collection: outputs first, then the result, through the SDK's JobServiceClient (its
 * own retries off: the collector retries against its deadline instead, and counts what
 * failed for its last line). Calls are bounded by a deadline a little before `deadlineMs`,
 * so that the collection ends by itself with a precise account; `summaryAtDeadline` gives
 * the account of an unfinished one, for a process that must exit at `deadlineMs` anyway.
 */
export class OutputCollector {
  private readonly startedAt = Date.now();
  /** Where calls stop: a little before the hard deadline, to leave time to say what happened. */
  private readonly deadline: number;
  private readonly client: JobServiceClient;
  private readonly backoff: { initialMs: number; maxMs: number };
  private files: OutputFile[] = [];
  private skipped: { path: string; why: string }[] = [];
  private unreadable: { path: string; why: string }[] = [];
  private readonly uploaded = new Map<string, number>();
  private readonly failed = new Map<string, string>();
  private result: ResultState = 'none';
  private resultNote = '';
  private stop: Stop | null = null;
  private tries = 0;
  private answered = 0;
  private readonly transient = new Map<string, { count: number; last: string }>();
  private doing = 'listing the outputs';
  private listed = false;

  constructor(private readonly options: CollectOptions) {
    this.deadline =
      this.startedAt + options.deadlineMs - Math.min(1000, Math.floor(options.deadlineMs / 10));
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 2000 };
    this.client = new JobServiceClient({
      address: options.address,
      jobId: options.jobId,
      token: options.token,
      retry: { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      deadline: new Date(this.deadline),
      // Reconnect soon after the API comes back, not grpc's default of up to two minutes.
      channelOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
    });
  }

  async collect(): Promise<CollectReport> {
    try {
      await this.run();
    } finally {
      this.client.close();
    }
    return this.report();
  }

  /** The account so far of a collection that has not ended by the hard deadline. */
  summaryAtDeadline(): string {
    this.stop ??= { kind: 'out-of-time' };
    return this.report().summary;
  }

  private async run(): Promise<void> {
    const listing = await listOutputFiles(this.options.outputDir);
    this.files = listing.files;
    this.skipped = listing.skipped;
    this.unreadable = listing.unreadable;
    this.listed = true;
    for (const { path, why } of listing.skipped) this.log('warn', `skipped ${path}: ${why}`);
    for (const { path, why } of listing.unreadable) {
      this.log('warn', `could not list ${path} in ${this.options.outputDir}: ${why}`);
    }
    const hasResult = await lstat(this.options.resultFile).then(
      () => true,
      () => false,
    );
    if (hasResult) this.result = 'pending';
    for (const output of this.files) {
      if (!(await this.upload(output))) return;
    }
    if (this.result === 'pending') await this.reportResult();
  }

  /** False when the collection must stop. */
  private async upload(output: OutputFile): Promise<boolean> {
    this.doing = `uploading ${output.path}`;
    const outcome = await this.call(() =>
      this.client.uploadArtifact(output.file, output.path, contentTypeOf(output.path)),
    );
    if (outcome.ok) {
      this.uploaded.set(output.path, outcome.value.size);
      this.log('info', `uploaded ${output.path} (${bytes(outcome.value.size)})`);
      return true;
    }
    if (outcome.stopped) return false;
    this.failed.set(output.path, outcome.why);
    this.log('warn', `${output.path} was not uploaded (${outcome.why}); going on with the others`);
    return true;
  }

  private async reportResult(): Promise<void> {
    this.doing = 'reporting the result';
    const read = await readResult(this.options.resultFile);
    if (read.kind === 'none') {
      this.result = 'none';
      return;
    }
    if (read.kind !== 'value') {
      this.result = read.kind === 'ignored' ? 'ignored' : 'failed';
      this.resultNote = read.why;
      this.log('warn', `no result reported: ${read.why}`);
      return;
    }
    const outcome = await this.call(() => this.client.reportStatus({ result: read.value }));
    if (outcome.ok) {
      this.result = 'reported';
      this.log('info', `reported the result from ${this.options.resultFile}`);
    } else if (!outcome.stopped) {
      this.result = 'failed';
      this.resultNote = outcome.why;
      this.log('warn', `the result was not reported (${outcome.why})`);
    }
  }

  /** Sends until the call gets through, is refused, or the deadline leaves no time to retry. */
  private async call<T>(send: () => Promise<T>): Promise<CallOutcome<T>> {
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
        this.log(
          'warn',
          `${failure.code} from the JobService at ${this.options.address} while ${this.doing} (${oneLine(failure.message)}); trying again in ${seconds(wait)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  private report(): CollectReport {
    const notUploaded = [
      ...this.files
        .filter(({ path }) => !this.uploaded.has(path))
        .map(({ path }) => ({ path, why: this.failed.get(path) ?? 'not sent' })),
      ...this.unreadable.map(({ path, why }) => ({ path, why: `could not be listed: ${why}` })),
    ];
    const ok = this.stop === null && notUploaded.length === 0 && this.result !== 'failed';
    return {
      ok,
      uploaded: [...this.uploaded.keys()],
      notUploaded,
      skipped: this.skipped,
      result: this.result,
      tries: this.tries,
      elapsedMs: Date.now() - this.startedAt,
      summary: ok ? this.successLine() : this.failureLine(notUploaded),
    };
  }

  private get who(): string {
    return `job ${this.options.jobId} attempt ${this.options.attempt}`;
  }

  private successLine(): string {
    const total = [...this.uploaded.values()].reduce((sum, size) => sum + size, 0);
    const uploaded = `uploaded ${count(this.uploaded.size, 'output')}${this.uploaded.size > 0 ? ` (${bytes(total)})` : ''}`;
    const result =
      this.result === 'reported'
        ? 'reported the result'
        : this.result === 'ignored'
          ? `ignored the result file (${this.resultNote})`
          : 'found no result file';
    const skipped =
      this.skipped.length > 0
        ? `; skipped ${count(this.skipped.length, 'entry', 'entries')} of the outputs directory (not regular files, or links out of it)`
        : '';
    return oneLine(
      `${this.who}: ${uploaded} and ${result} in ${seconds(Date.now() - this.startedAt)}${skipped}`,
    );
  }

  private failureLine(notUploaded: { path: string; why: string }[]): string {
    const elapsed = seconds(Date.now() - this.startedAt);
    const address = this.options.address;
    const lost = this.lost(notUploaded);
    switch (this.stop?.kind) {
      case 'unreachable':
        return oneLine(
          `${this.answered === 0 ? 'could not reach' : 'gave up on'} the JobService at ${address} after ${count(this.tries, 'try', 'tries')} in ${elapsed} (${this.transientCounts()}); ${lost}`,
        );
      case 'refused':
        return oneLine(
          `the JobService at ${address} refused ${this.who} (${this.stop.code}: ${clip(this.stop.message)}); ${lost}`,
        );
      case 'out-of-time':
        return oneLine(
          `ran out of time: the COLLECTOR_DEADLINE_MS deadline (${seconds(this.options.deadlineMs)}) passed while ${this.doing} (${count(this.tries, 'try', 'tries')} to the JobService at ${address}${this.transient.size > 0 ? `: ${this.transientCounts()}` : ''}); ${lost}`,
        );
      default:
        return oneLine(this.refusedLine(notUploaded));
    }
  }

  /** Every call got an answer, but some outputs or the result were refused or unreadable. */
  private refusedLine(notUploaded: { path: string; why: string }[]): string {
    const total = this.files.length + this.unreadable.length;
    const parts: string[] = [];
    if (notUploaded.length > 0) {
      const listed = notUploaded
        .slice(0, 3)
        .map(({ path, why }) => `${clip(path, 120)} (${clip(why)})`)
        .join(', ');
      const more = notUploaded.length > 3 ? `, and ${notUploaded.length - 3} more` : '';
      const others = total - notUploaded.length;
      parts.push(
        `${notUploaded.length} of ${count(total, 'output')} of ${this.who} ${were(notUploaded.length)} not uploaded: ${listed}${more}; the other ${others} ${were(others)} uploaded`,
      );
    }
    if (this.result === 'failed') {
      parts.push(
        parts.length > 0
          ? `its result was not reported (${clip(this.resultNote)})`
          : `the result of ${this.who} was not reported (${clip(this.resultNote)}); its ${count(total, 'output')} ${were(total)} uploaded`,
      );
    } else if (this.result === 'reported') {
      parts.push('its result was reported');
    }
    return parts.join(' and ');
  }

  /** What did not arrive, after the collection stopped. */
  private lost(notUploaded: { path: string; why: string }[]): string {
    if (!this.listed)
      return `the outputs of ${this.who} were not even listed, so none were uploaded`;
    const total = this.files.length + this.unreadable.length;
    const resultLost = this.result === 'pending' || this.result === 'failed';
    if (notUploaded.length > 0) {
      return `${notUploaded.length} of ${count(total, 'output')} of ${this.who} ${were(notUploaded.length)} not uploaded${resultLost ? ' and its result was not reported' : ''}`;
    }
    if (resultLost) {
      return `the result of ${this.who} was not reported${total > 0 ? ` (its ${count(total, 'output')} ${were(total)} uploaded)` : ''}`;
    }
    return `everything of ${this.who} had arrived`;
  }

  private transientCounts(): string {
    return [...this.transient]
      .map(([code, { count, last }]) => `${count} ${code}: ${clip(last)}`)
      .join('; ');
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.options.log?.(level, message);
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

type ResultRead =
  | { kind: 'none' }
  | { kind: 'value'; value: unknown }
  /** Because of what the job wrote: the job's business, not a failed collection. */
  | { kind: 'ignored'; why: string }
  | { kind: 'unreadable'; why: string };

async function readResult(file: string): Promise<ResultRead> {
  try {
    const real = await containedRealPath(file);
    const info = await stat(real);
    if (!info.isFile()) return { kind: 'ignored', why: `${file} is not a regular file` };
    if (info.size > MAX_RESULT_BYTES) {
      return {
        kind: 'ignored',
        why: `${file} is ${info.size} bytes; results over ${MAX_RESULT_BYTES} bytes are ignored (upload big outputs as files in the outputs directory)`,
      };
    }
    const text = await readFile(real, 'utf8');
    try {
      return { kind: 'value', value: JSON.parse(text) };
    } catch (error) {
      return { kind: 'ignored', why: `${file} is not valid JSON (${reason(error)})` };
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    if (code === 'ELINKOUT') return { kind: 'ignored', why: reason(error) };
    return { kind: 'unreadable', why: `${file} could not be read: ${reason(error)}` };
  }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function were(n: number): string {
  return n === 1 ? 'was' : 'were';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The executor reads the last line of the termination message, which the kubelet cuts to
 * the log's last 2048 bytes: keep it to one line, every part of it clipped to fit.
 */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clip(text: string, max = 200): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
