import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from '../../chaos/src/checks';
import { spawnTracked } from '../support/processes';

const MAIN = join(__dirname, '..', '..', 'dist', 'chaos', 'src', 'main.js');

/**
 * Runs one chaos scenario at its CI size (`npm run chaos -- --scenario <id> --ci`), as its
 * own process with its own Postgres, and returns what it measured.
 */
export async function runChaos(scenario: string, extra: string[] = []): Promise<ScenarioResult> {
  const out = join(mkdtempSync(join(tmpdir(), 'danube-chaos-result-')), 'result.json');
  const env = { ...process.env };
  delete env.DATABASE_URL; // a Postgres of its own, which it restarts
  const chaos = spawnTracked(
    process.execPath,
    [MAIN, '--scenario', scenario, '--ci', '--json', out, ...extra],
    { env },
  );
  const code = await chaos.exited;
  let results: ScenarioResult[];
  try {
    results = JSON.parse(readFileSync(out, 'utf8')).results;
  } catch {
    throw new Error(`the chaos run wrote no results (exit ${code}):\n${chaos.output()}`);
  }
  if (code !== 0 && results.every((r) => r.pass)) {
    throw new Error(`the chaos run exited ${code}:\n${chaos.output()}`);
  }
  return results[0]!;
}

/** The figures every scenario promises to keep at zero. */
const MUST_BE_ZERO = [
  'lost',
  'stuck',
  'failed',
  'untrackedRuns',
  'attemptsWithoutRecord',
  'concurrentDoubleRuns',
  'doubleSuccesses',
  'unrecovered',
  'executorCrashes',
] as const;

/** What a scenario promises, as one object so that a failure shows every figure and the notes. */
export function promises(r: ScenarioResult) {
  return {
    ...Object.fromEntries(MUST_BE_ZERO.map((key) => [key, r[key]])),
    serverErrors: r.http.serverErrors,
    notes: r.pass ? [] : r.notes,
  };
}

/** The promises kept. */
export const KEPT = {
  ...Object.fromEntries(MUST_BE_ZERO.map((key) => [key, 0])),
  serverErrors: 0,
  notes: [],
};
