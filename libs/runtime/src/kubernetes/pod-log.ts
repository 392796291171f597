import { LineSplitter, TAIL_CHARS } from '../output-tail';
import type { StoredLogPosition } from '@danube/core';

/** A log line's timestamp as the kubelet writes it with timestamps=true (RFC 3339, nanoseconds). */
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/**
 * Reads a container's log requested with timestamps=true: splits it into lines, takes the
 * kubelet's timestamp off each, and passes on the text with the time it was written.
 *
 * For an adopted attempt whose output is partly stored (`stored`), the log is requested
 * from the second of the last stored line; the lines up to and including that line are
 * skipped here, so that each line is stored once. Lines written in the same millisecond as
 * the last stored one are told apart by their count.
 */
export class PodLogReader {
  private readonly splitter: LineSplitter;
  private lastWrittenAt: Date | null = null;
  private skippedAtUpTo = 0;
  private tail = '';

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

  end(): void {
    this.splitter.end();
  }

  /** The last few KiB of the text passed on, without timestamps. */
  tailText(): string {
    return this.tail;
  }

  private read(line: string): void {
    const match = TIMESTAMP.exec(line);
    // A line without one is the continuation of a line too long to pass on whole.
    const writtenAt = match ? new Date(match[1]!) : this.lastWrittenAt;
    const text = match ? line.slice(match[0].length) : line;
    this.lastWrittenAt = writtenAt;
    if (writtenAt && this.isStored(writtenAt)) return;
    this.tail = `${this.tail}${text}\n`.slice(-TAIL_CHARS);
    this.onLine(text, writtenAt ?? undefined);
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
