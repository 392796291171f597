import { lstat, readFile, stat } from 'node:fs/promises';
import { MAX_RESULT_BYTES } from '@danube/core';
import { JobServiceClient, contentTypeOf } from '@danube/sdk';
import { CallPolicy } from './call-policy';
import { bytes, failureLine, successLine, type Collection } from './collection-summary';
import type { CollectorOptions } from './collector.config';
import { containedRealPath, listOutputFiles, reason, type OutputFile } from './output-files';

export interface CollectOptions extends Omit<CollectorOptions, 'readyFile' | 'terminationLog'> {
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

/** Uploads every file in `outputDir`, then reports `resultFile`, within `deadlineMs`. */
export function collectOutputs(options: CollectOptions): Promise<CollectReport> {
  return new OutputCollector(options).collect();
}

/**
 * One collection: outputs first, then the result, through the SDK's JobServiceClient (its
 * own retries off: the collector retries against its deadline instead, see CallPolicy, and
 * counts what failed for its last line, see collection-summary.ts). Calls are bounded by a
 * deadline a little before `deadlineMs`, so that the collection ends by itself with a precise
 * account; `summaryAtDeadline` gives the account of an unfinished one, for a process that
 * must exit at `deadlineMs` anyway.
 */
export class OutputCollector {
  private readonly startedAt = Date.now();
  private readonly client: JobServiceClient;
  private readonly calls: CallPolicy;
  private files: OutputFile[] = [];
  private skipped: { path: string; why: string }[] = [];
  private unreadable: { path: string; why: string }[] = [];
  private readonly uploaded = new Map<string, number>();
  private readonly failed = new Map<string, string>();
  private result: ResultState = 'none';
  private resultNote = '';
  private doing = 'listing the outputs';
  private listed = false;

  constructor(private readonly options: CollectOptions) {
    // Calls stop a little before the hard deadline, to leave time to say what happened.
    const deadline =
      this.startedAt + options.deadlineMs - Math.min(1000, Math.floor(options.deadlineMs / 10));
    this.calls = new CallPolicy(
      deadline,
      options.backoff ?? { initialMs: 200, maxMs: 2000 },
      options.address,
      (message) => this.log('warn', message),
    );
    this.client = new JobServiceClient({
      address: options.address,
      jobId: options.jobId,
      token: options.token,
      retry: { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      deadline: new Date(deadline),
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
    this.calls.stop ??= { kind: 'out-of-time' };
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
    const outcome = await this.calls.call(
      () => this.client.uploadArtifact(output.file, output.path, contentTypeOf(output.path)),
      this.doing,
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
    const outcome = await this.calls.call(
      () => this.client.reportStatus({ result: read.value }),
      this.doing,
    );
    if (outcome.ok) {
      this.result = 'reported';
      this.log('info', `reported the result from ${this.options.resultFile}`);
    } else if (!outcome.stopped) {
      this.result = 'failed';
      this.resultNote = outcome.why;
      this.log('warn', `the result was not reported (${outcome.why})`);
    }
  }

  private report(): CollectReport {
    const notUploaded = [
      ...this.files
        .filter(({ path }) => !this.uploaded.has(path))
        .map(({ path }) => ({ path, why: this.failed.get(path) ?? 'not sent' })),
      ...this.unreadable.map(({ path, why }) => ({ path, why: `could not be listed: ${why}` })),
    ];
    const ok = this.calls.stop === null && notUploaded.length === 0 && this.result !== 'failed';
    const collection: Collection = {
      jobId: this.options.jobId,
      attempt: this.options.attempt,
      address: this.options.address,
      deadlineMs: this.options.deadlineMs,
      startedAt: this.startedAt,
      listed: this.listed,
      files: this.files,
      skipped: this.skipped,
      unreadable: this.unreadable,
      uploaded: this.uploaded,
      result: this.result,
      resultNote: this.resultNote,
      doing: this.doing,
      calls: this.calls,
    };
    return {
      ok,
      uploaded: [...this.uploaded.keys()],
      notUploaded,
      skipped: this.skipped,
      result: this.result,
      tries: this.calls.tries,
      elapsedMs: Date.now() - this.startedAt,
      summary: ok ? successLine(collection) : failureLine(collection, notUploaded),
    };
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.options.log?.(level, message);
  }
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
