import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines for the job's log, and keeps the last `tailBytes` of it
 * for the execution record. A line longer than `maxLineLength` is cut into pieces so that
 * a job writing without newlines cannot grow the executor's memory.
 */
/** How much of an attempt's output the execution record keeps (its stderr tail). */
export const TAIL_CHARS = 4096;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private tail = '';

  constructor(
    private readonly onLine: (line: string) => void,
    /** 0: keep no tail (the caller keeps its own). */
    private readonly tailBytes = TAIL_CHARS,
    private readonly maxLineLength = 16 * 1024,
  ) {}

  write(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    this.keepTail(text);
    this.partial += text;
    let newline: number;
    while ((newline = this.partial.indexOf('\n')) !== -1) {
      this.emit(this.partial.slice(0, newline));
      this.partial = this.partial.slice(newline + 1);
    }
    while (this.partial.length > this.maxLineLength) {
      this.emit(this.partial.slice(0, this.maxLineLength));
      this.partial = this.partial.slice(this.maxLineLength);
    }
  }

  end(): void {
    const rest = this.decoder.end();
    this.keepTail(rest);
    this.partial += rest;
    if (this.partial.length > 0) this.emit(this.partial);
    this.partial = '';
  }

  tailText(): string {
    return this.tail;
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private keepTail(text: string): void {
    if (this.tailBytes === 0) return;
    this.tail = (this.tail + text).slice(-this.tailBytes);
  }
}
