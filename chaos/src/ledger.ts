import { readFileSync } from 'node:fs';

/**
 * The ledger: every chaos job appends to one file, from inside the job, what it does and
 * when: `start <job> <attempt> <time> <executor>`, a `tick` every 100 ms while it runs, and
 * `end` when it is done. It is the harness's own account of what ran, independent of what
 * Danube recorded, so that the two can be compared.
 *
 * The job is a bash script (bash for $EPOCHREALTIME: a clock read without a process per
 * line), run with argv ['bash', '--norc', '--noprofile', '-c', JOB_SCRIPT, 'chaos-job', <ledger>, <ticks>]. It also
 * prints a line per tick, so that log writing is part of every scenario.
 */
export const JOB_SCRIPT = [
  'L=$1; n=$2',
  'echo "start $DANUBE_JOB_ID $DANUBE_ATTEMPT $EPOCHREALTIME $DANUBE_EXECUTOR_ID" >> "$L"',
  'for ((i = 0; i < n; i++)); do',
  '  echo "tick $DANUBE_JOB_ID $DANUBE_ATTEMPT $EPOCHREALTIME" >> "$L"',
  '  echo "line $i of attempt $DANUBE_ATTEMPT"',
  '  sleep 0.1',
  'done',
  'echo "end $DANUBE_JOB_ID $DANUBE_ATTEMPT $EPOCHREALTIME" >> "$L"',
].join('\n');

export function jobCommand(ledger: string, ticks: number): string[] {
  return ['bash', '--norc', '--noprofile', '-c', JOB_SCRIPT, 'chaos-job', ledger, String(ticks)];
}

/** One attempt as the ledger saw it. Times are seconds since the epoch. */
export interface LedgerAttempt {
  jobId: string;
  attempt: number;
  executor: string;
  start: number;
  /** The last sign of life: the last tick, or the end. */
  last: number;
  /** When it wrote `end` (ran to completion), or null (killed). */
  end: number | null;
}

export function readLedger(path: string): LedgerAttempt[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const attempts = new Map<string, LedgerAttempt>();
  for (const line of text.split('\n')) {
    const [kind, jobId, attemptText, timeText, executor] = line.split(' ');
    if (!kind || !jobId || !attemptText || !timeText) continue;
    const key = `${jobId}:${attemptText}`;
    const time = Number(timeText);
    let attempt = attempts.get(key);
    if (!attempt) {
      attempt = {
        jobId,
        attempt: Number(attemptText),
        executor: '',
        start: time,
        last: time,
        end: null,
      };
      attempts.set(key, attempt);
    }
    if (kind === 'start') {
      attempt.start = Math.min(attempt.start, time);
      attempt.executor = executor ?? '';
    }
    if (kind === 'end') attempt.end = time;
    attempt.last = Math.max(attempt.last, time);
  }
  return [...attempts.values()];
}

/**
 * Pairs of attempts of one job that ran at the same time: a later attempt started while an
 * earlier one still showed signs of life. (A tick is every 100 ms, so an overlap shorter
 * than that can go unseen; the scenarios make overlaps, when there are any, last seconds.)
 */
export function concurrentRuns(
  attempts: LedgerAttempt[],
): { jobId: string; attempts: [number, number]; overlapSeconds: number }[] {
  const byJob = new Map<string, LedgerAttempt[]>();
  for (const a of attempts) byJob.set(a.jobId, [...(byJob.get(a.jobId) ?? []), a]);
  const found: { jobId: string; attempts: [number, number]; overlapSeconds: number }[] = [];
  for (const [jobId, list] of byJob) {
    list.sort((x, y) => x.start - y.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const earlier = list[i]!;
        const later = list[j]!;
        if (earlier.last > later.start) {
          found.push({
            jobId,
            attempts: [earlier.attempt, later.attempt],
            overlapSeconds: earlier.last - later.start,
          });
        }
      }
    }
  }
  return found;
}

/**
 * How long the jobs an executor was running at `at` (seconds since the epoch) took to be
 * taken up again: for each attempt of `executor` under way at `at`, the time to the start
 * of the job's next attempt, or, when the next attempt never started because a later fault
 * ended the executor that had claimed it (`lostLater` gives when), to that fault. Null when
 * a killed attempt never got a next one. An attempt that still ran to its end, with no next
 * attempt, needed no recovery.
 */
export function recoveryTimes(
  attempts: LedgerAttempt[],
  executor: string,
  at: number,
  lostLater: (jobId: string, attempt: number) => number | null = () => null,
): { jobId: string; seconds: number | null }[] {
  const times: { jobId: string; seconds: number | null }[] = [];
  for (const a of attempts) {
    if (a.executor !== executor || a.start > at || (a.end !== null && a.end <= at)) continue;
    const next = attempts
      .filter((b) => b.jobId === a.jobId && b.attempt > a.attempt)
      .sort((x, y) => x.start - y.start)[0];
    const takenUp = Math.min(
      next?.start ?? Infinity,
      lostLater(a.jobId, a.attempt + 1) ?? Infinity,
    );
    if (takenUp !== Infinity) times.push({ jobId: a.jobId, seconds: takenUp - at });
    else if (a.end === null) times.push({ jobId: a.jobId, seconds: null });
  }
  return times;
}
