import { PodLogReader, REORDER_WINDOW_MS } from './pod-log';

function read(log: string, stored: ConstructorParameters<typeof PodLogReader>[1] = null) {
  const lines: [string, string | undefined][] = [];
  const reader = new PodLogReader((text, at) => lines.push([text, at?.toISOString()]), stored);
  // Chunk boundaries fall inside lines and timestamps.
  const bytes = Buffer.from(log);
  for (let i = 0; i < bytes.length; i += 7) reader.write(bytes.subarray(i, i + 7));
  reader.end();
  return { lines, reader };
}

describe('PodLogReader', () => {
  it("takes the kubelet's timestamp off each line and passes the time it was written", () => {
    const { lines, reader } = read(
      '2026-11-30T23:10:01.123456789Z hello world\n' +
        '2026-11-30T23:10:02Z  indented\n' +
        '2026-12-01T00:10:03.5+01:00 last, no newline',
    );
    expect(lines).toEqual([
      ['hello world', '2026-11-30T23:10:01.123Z'],
      [' indented', '2026-11-30T23:10:02.000Z'],
      ['last, no newline', '2026-11-30T23:10:03.500Z'],
    ]);
    expect(reader.tailText()).toBe('hello world\n indented\nlast, no newline\n');
    expect(reader.since).toBeUndefined();
  });

  it('passes a line without a timestamp on with the time of the line before', () => {
    const { lines } = read('2026-11-30T23:10:01.5Z first\nrest of a long line\n');
    expect(lines).toEqual([
      ['first', '2026-11-30T23:10:01.500Z'],
      ['rest of a long line', '2026-11-30T23:10:01.500Z'],
    ]);
    expect(read('no timestamp at all\n').lines).toEqual([['no timestamp at all', undefined]]);
  });

  it('skips the lines already stored of an adopted attempt, ties at the last one by count', () => {
    const log =
      '2026-11-30T23:10:01.100Z one\n' +
      '2026-11-30T23:10:01.200000001Z two\n' +
      '2026-11-30T23:10:01.200000002Z three\n' +
      '2026-11-30T23:10:01.300Z four\n';
    // "two" was the last line stored; "three" has the same millisecond.
    const stored = { upTo: new Date('2026-11-30T23:10:01.200Z'), linesAtUpTo: 1 };
    const { lines, reader } = read(log, stored);
    expect(lines.map(([text]) => text)).toEqual(['three', 'four']);
    expect(reader.since).toEqual(stored.upTo);

    const both = { upTo: new Date('2026-11-30T23:10:01.200Z'), linesAtUpTo: 2 };
    expect(read(log, both).lines.map(([text]) => text)).toEqual(['four']);
  });

  it('passes lines on in the order written when the log has a later line first', () => {
    // As containerd may write them: a stderr line read before a stdout line, written after.
    const { lines } = read(
      '2026-11-30T23:10:01.100Z out 1\n' +
        '2026-11-30T23:10:01.300000002Z out 2\n' +
        '2026-11-30T23:10:01.300000001Z err 1\n' +
        '2026-11-30T23:10:01.400Z out 3\n',
    );
    expect(lines.map(([text]) => text)).toEqual(['out 1', 'err 1', 'out 2', 'out 3']);
  });

  it('holds a line back no longer than the window, while the log goes on', () => {
    jest.useFakeTimers();
    try {
      const lines: string[] = [];
      const reader = new PodLogReader((text) => lines.push(text));
      reader.write(Buffer.from('2026-11-30T23:10:01.100Z first\n'));
      expect(lines).toEqual([]);
      jest.advanceTimersByTime(REORDER_WINDOW_MS * 2 + 10);
      expect(lines).toEqual(['first']);
      reader.write(Buffer.from('2026-11-30T23:10:02Z second\n'));
      reader.end();
      expect(lines).toEqual(['first', 'second']);
    } finally {
      jest.useRealTimers();
    }
  });
});
