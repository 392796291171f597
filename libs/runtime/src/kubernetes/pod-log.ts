import { LineSplitter, TAIL_CHARS } from '../output-tail';
import type { StoredLogPosition } from '@danube/core';

/** A log line's timestamp as the kubelet writes it with timestamps=true (RFC 3339, nanoseconds). */
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) /;
/**
 * How long a line is held back for lines written before it that arrive after it: the
 * runtime reads a container's stdout and stderr separately and may write a line to the log
 * a little after a later line of the other stream.
 */
export const REORDER_WINDOW_MS = 100;

interface HeldLine {
  /** When it was written: epoch milliseconds, and the nanoseconds within that millisecond. */
  ms: number;
  ns: number;
  seq: number;
  text: string;
  writtenAt: Date | undefined;
  arrivedAt: number;
}

/**
 * Reads a container's log requested with timestamps=true: splits it into lines, takes the
 * kubelet's timestamp off each, and passes on the text with the time it was written, in
 * the order written: each line waits REORDER_WINDOW_MS for earlier ones that arrive late.
 *
 * For an adopted attempt whose output is partly stored (`stored`), the log is requested
 * from the second of the last stored line; the lines up to and including that line are
 * skipped here, so that each line is stored once. Lines written in the same millisecond as
 * the last stored one are told apart by their count.
 */
export class PodLogReader {
  private readonly splitter: LineSplitter;
  private lastWrittenAt: Date | null = null;
  private lastKey = { ms: 0, ns: 0 };
  private skippedAtUpTo = 0;
  private tail = '';
  private held: HeldLine[] = [];
  private seq = 0;
  private releaseTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly onLine: (text: string, writtenAt: Date | undefined) => void,
    private readonly stored: StoredLogPosition | null = null,
  ) {
    // The tail is kept here, of the text without timestamps.
    this.splitter = new LineSplitter((line) => this.read(line), 0);
  }

  /** Where to start the log request: the stored output's last second, or the start. */
  get since(): Date | undefined {
    return this.stored?.upTo;
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  /** The log ended: every line still held is passed on. */
  end(): void {
    this.splitter.end();
    this.releaseAll();
  }

  /** The last few KiB of the text passed on, without timestamps. */
  tailText(): string {
    return this.tail;
  }

  private read(line: string): void {
    const match = TIMESTAMP.exec(line);
    // A line without one is the continuation of a line too long to pass on whole.
    const writtenAt = match
      ? new Date(`${match[1]}${(match[2] ?? '').slice(0, 4)}${match[3]}`)
      : this.lastWrittenAt;
    const key = match
      ? { ms: writtenAt!.getTime(), ns: nanosBeyondMillis(match[2]) }
      : this.lastKey;
    const text = match ? line.slice(match[0].length) : line;
    this.lastWrittenAt = writtenAt;
    this.lastKey = key;
    if (writtenAt && this.isStored(writtenAt)) return;
    this.held.push({
      ...key,
      seq: this.seq++,
      text,
      writtenAt: writtenAt ?? undefined,
      arrivedAt: Date.now(),
    });
    this.releaseTimer ??= setTimeout(() => this.releaseDue(), REORDER_WINDOW_MS);
  }

  /** Passes on the lines held for the window, with any written before them. */
  private releaseDue(): void {
    this.releaseTimer = null;
    const due = Date.now() - REORDER_WINDOW_MS;
    this.held.sort(byWritten);
    // The last line that is due: it and every line written before it go.
    let count = 0;
    this.held.forEach((line, i) => {
      if (line.arrivedAt <= due) count = i + 1;
    });
    this.pass(this.held.splice(0, count));
    if (this.held.length > 0)
      this.releaseTimer = setTimeout(() => this.releaseDue(), REORDER_WINDOW_MS);
  }

  /** Passes on every line held, in the order written. */
  private releaseAll(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.pass(this.held.sort(byWritten).splice(0));
  }

  private pass(lines: HeldLine[]): void {
    for (const line of lines) {
      this.tail = `${this.tail}${line.text}\n`.slice(-TAIL_CHARS);
      this.onLine(line.text, line.writtenAt);
    }
  }

  private isStored(writtenAt: Date): boolean {
    if (!this.stored) return false;
    const at = writtenAt.getTime();
    const upTo = this.stored.upTo.getTime();
    if (at < upTo) return true;
    if (at === upTo && this.skippedAtUpTo < this.stored.linesAtUpTo) {
      this.skippedAtUpTo++;
      return true;
    }
    return false;
  }
}

/** The nanoseconds below the millisecond of a fraction of a second ('.123456789'). */
function nanosBeyondMillis(fraction: string | undefined): number {
  return Number((fraction ?? '').slice(1).padEnd(9, '0').slice(3, 9));
}

function byWritten(a: HeldLine, b: HeldLine): number {
  return a.ms - b.ms || a.ns - b.ns || a.seq - b.seq;
}
