import { StringDecoder } from 'node:string_decoder';
import { preciseNow, rfc3339Nano } from './kube-time';

export interface LogEntry {
  /** Epoch milliseconds with a fraction: the kubelet's log timestamps have nanoseconds. */
  time: number;
  /** One line, with its newline (the last line of a log may have none). */
  text: string;
}

export interface LogSelection {
  /** Epoch milliseconds: only lines written at or after it. */
  since?: number;
  /** Only the last N lines (of those `since` keeps). */
  tailLines?: number;
}

type Stream = 'stdout' | 'stderr';
type Listener = (entry: LogEntry | null) => void;

/**
 * A container's log as the kubelet keeps it: stdout and stderr interleaved line by line in
 * the order they were written, each line timestamped. A line is logged once complete (or
 * when the container ends), as containerd does.
 */
export class ContainerLog {
  readonly entries: LogEntry[] = [];
  /** stderr lines timestamped but not yet in the log (see stderrLate). */
  private late: LogEntry[] = [];
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly decoders: Record<Stream, StringDecoder> = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };
  private readonly listeners = new Set<Listener>();
  private done = false;

  /**
   * `stderrLate`: each stderr line is timestamped when read but written to the log only
   * after the next stdout line, as containerd's separate readers of the two pipes can do.
   * false: in the order read.
   */
  constructor(private readonly stderrLate = false) {}

  get ended(): boolean {
    return this.done;
  }

  append(stream: Stream, chunk: Buffer): void {
    let text = this.partial[stream] + this.decoders[stream].write(chunk);
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n')) {
      this.add(text.slice(0, newline + 1), stream);
      text = text.slice(newline + 1);
    }
    this.partial[stream] = text;
  }

  /** The container has ended: flushes unfinished lines and ends every follower. */
  end(): void {
    if (this.done) return;
    this.writeLate();
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].end();
      this.partial[stream] = '';
      if (rest) this.write({ time: preciseNow(), text: rest });
    }
    this.done = true;
    for (const listener of this.listeners) listener(null);
    this.listeners.clear();
  }

  select({ since, tailLines }: LogSelection = {}): LogEntry[] {
    const kept = since === undefined ? this.entries : this.entries.filter((e) => e.time >= since);
    return tailLines === undefined ? kept : kept.slice(Math.max(0, kept.length - tailLines));
  }

  /** Calls `listener` with each new line, then with null once the log ends. */
  follow(listener: Listener): () => void {
    if (this.done) {
      listener(null);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The kubelet's termination message from logs: the last `lines` lines, at most `bytes`. */
  tail(lines: number, bytes: number): string {
    const text = this.select({ tailLines: lines })
      .map((e) => e.text)
      .join('');
    const buffer = Buffer.from(text);
    return buffer.length <= bytes ? text : buffer.subarray(buffer.length - bytes).toString();
  }

  private add(text: string, stream: Stream): void {
    const entry = { time: preciseNow(), text };
    if (stream === 'stderr' && this.stderrLate) {
      this.late.push(entry);
      return;
    }
    this.write(entry);
    this.writeLate();
  }

  private writeLate(): void {
    const late = this.late;
    this.late = [];
    for (const entry of late) this.write(entry);
  }

  private write(entry: LogEntry): void {
    this.entries.push(entry);
    for (const listener of this.listeners) listener(entry);
  }
}

export function formatLogEntry(entry: LogEntry, timestamps: boolean): string {
  return timestamps ? `${rfc3339Nano(entry.time)} ${entry.text}` : entry.text;
}
