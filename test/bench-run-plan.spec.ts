import { runPlan, type PlannedCase } from '../bench/src/run-plan';

const cases = (...labels: string[]): PlannedCase[] =>
  labels.map((label) => ({ label, system: label, options: {} }));

describe("the benchmark's plan runner", () => {
  it('interleaves the cases, each repetition starting with another', async () => {
    const calls: string[] = [];
    await runPlan([{ scenario: 'drain', cases: cases('a', 'b', 'c') }], 3, async (_, c, rep) => {
      calls.push(`${c.label}${rep}`);
      return { rssMb: 1 };
    });
    expect(calls).toEqual(['a1', 'b1', 'c1', 'b2', 'c2', 'a2', 'c3', 'a3', 'b3']);
  });

  it('records a failed run with its error, leaves that case out, and runs everything else', async () => {
    const calls: string[] = [];
    const { results, failures } = await runPlan(
      [
        { scenario: 'fleet', cases: cases('one', 'two') },
        { scenario: 'memory', cases: cases('only') },
      ],
      2,
      async (scenario, c, rep) => {
        calls.push(`${scenario}/${c.label}${rep}`);
        if (c.label === 'two' && rep === 1) throw new Error('storing took too long');
        return { rssMb: rep, jobsPerSecond: 100 };
      },
    );
    // The failed case's second repetition and the next scenario still ran.
    expect(calls).toEqual([
      'fleet/one1',
      'fleet/two1',
      'fleet/two2',
      'fleet/one2',
      'memory/only1',
      'memory/only2',
    ]);
    expect(failures).toEqual([
      { scenario: 'fleet', label: 'two', repetition: 1, error: 'storing took too long' },
    ]);
    expect(results.map((r) => [r.scenario, r.cases.map((c) => c.label)])).toEqual([
      ['fleet', ['one']],
      ['memory', ['only']],
    ]);
    expect(results[0]!.cases[0]!.runs).toHaveLength(2);
  });

  it('leaves out a scenario whose every case failed', async () => {
    const { results, failures } = await runPlan(
      [{ scenario: 'depth', cases: cases('x') }],
      1,
      async () => {
        throw new Error('no room');
      },
    );
    expect(results).toEqual([]);
    expect(failures).toHaveLength(1);
  });
});
