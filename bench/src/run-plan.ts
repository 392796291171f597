/** Runs a benchmark plan case by case; a case that fails is recorded and the run goes on. */

export type RunResult = Record<string, unknown> & { rssMb: number };

export interface PlannedCase<System extends string = string> {
  label: string;
  system: System;
  options: Record<string, number>;
}

export interface ScenarioResult<System extends string = string> {
  scenario: string;
  /** The cases whose every repetition ran. */
  cases: { label: string; system: System; runs: RunResult[] }[];
}

export interface CaseFailure {
  scenario: string;
  label: string;
  /** 1 for the first repetition. */
  repetition: number;
  error: string;
}

/**
 * Runs every case `reps` times, interleaved (A B C A B C ...; each repetition starts with
 * another case, so that none always runs first and drift in the machine's speed falls on
 * all alike). A case whose repetition fails is left out of the results, with its error in
 * `failures`; its other repetitions still run, and so does everything else.
 */
export async function runPlan<System extends string>(
  plan: { scenario: string; cases: PlannedCase<System>[] }[],
  reps: number,
  run: (scenario: string, c: PlannedCase<System>, repetition: number) => Promise<RunResult>,
): Promise<{ results: ScenarioResult<System>[]; failures: CaseFailure[] }> {
  const results: ScenarioResult<System>[] = [];
  const failures: CaseFailure[] = [];
  for (const { scenario, cases } of plan) {
    const runs = cases.map(() => [] as RunResult[]);
    const failed = cases.map(() => false);
    for (let rep = 0; rep < reps; rep++) {
      const order = cases.map((_, i) => (i + rep) % cases.length);
      for (const i of order) {
        const c = cases[i]!;
        try {
          runs[i]!.push(await run(scenario, c, rep + 1));
        } catch (error) {
          failed[i] = true;
          const message = error instanceof Error ? error.message : String(error);
          failures.push({ scenario, label: c.label, repetition: rep + 1, error: message });
        }
      }
    }
    const succeeded = cases
      .map((c, i) => ({ label: c.label, system: c.system, runs: runs[i]! }))
      .filter((_, i) => !failed[i]);
    if (succeeded.length > 0) results.push({ scenario, cases: succeeded });
  }
  return { results, failures };
}
