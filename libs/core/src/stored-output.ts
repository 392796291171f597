/**
 * How far an attempt's stored output goes: the time of its last line, and how many lines
 * have exactly that time. An executor adopting the attempt reads the output on from there.
 */
export interface StoredLogPosition {
  upTo: Date;
  linesAtUpTo: number;
}

/** What is stored of an attempt's output: its line count, and how far it goes. */
export interface StoredOutput extends StoredLogPosition {
  lines: number;
}
