import { MAX_STEP_OUTPUT_BYTES, capLines } from './steps.service';

describe("capLines (a step's output as RunStep returns it)", () => {
  it('joins lines with newlines when they fit', () => {
    expect(capLines(['a', 'b'])).toEqual({ text: 'a\nb\n', truncated: false });
    expect(capLines([])).toEqual({ text: '', truncated: false });
  });

  it('cuts at the byte limit and says so', () => {
    const line = 'x'.repeat(1000);
    const lines = Array.from({ length: 2000 }, () => line);
    const capped = capLines(lines);
    expect(capped.truncated).toBe(true);
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(MAX_STEP_OUTPUT_BYTES);
    expect(Buffer.byteLength(capped.text)).toBeGreaterThan(MAX_STEP_OUTPUT_BYTES - 1001);
  });

  it('never cuts a multi-byte character in half', () => {
    const capped = capLines(['ab', '€€€'], 6);
    expect(capped).toEqual({ text: 'ab\n€', truncated: true });
  });
});
