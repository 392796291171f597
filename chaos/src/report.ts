import { cpus, totalmem } from 'node:os';
import type { ScenarioResult } from './checks';
import { RECOVERY_LIMIT_SECONDS } from './checks';
import { LEASE } from './cluster';

/** docs/reliability.md: what the last full `npm run chaos` saw, scenario by scenario. */
export function reliabilityReport(results: ScenarioResult[], startedAt: Date): string {
  const figure = (n: number) => n.toLocaleString('en-US');
  const rows = results.map((r) =>
    [
      `(${r.scenario}) ${r.title}`,
      r.cases !== undefined ? `${figure(r.cases)} cases` : figure(r.jobs),
      r.lost,
      r.stuck,
      r.failed,
      r.untrackedRuns,
      r.concurrentDoubleRuns,
      r.recoverySeconds === null ? '-' : `${r.recoverySeconds.toFixed(1)} s`,
      r.executorCrashes,
      r.http.serverErrors,
      r.http.unavailable,
      r.pass ? 'pass' : '**FAIL**',
    ].join(' | '),
  );
  const notes = results.flatMap((r) =>
    r.notes.length === 0
      ? []
      : [`- (${r.scenario}) ${r.notes.map((n) => n.replace(/\n/g, ' ')).join('; ')}`],
  );
  return `# Reliability

What \`npm run chaos\` measured on ${startedAt.toISOString().slice(0, 10)}: real processes on loopback
(the API, three executors with the process runtime, a Postgres of the run's own), jobs that
write what they do to a ledger of their own, every outcome checked in SQL and against that
ledger. This file is written by the run; \`npm run chaos\` writes it again.

Machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
Leases: ${LEASE.EXECUTOR_LEASE_MS} ms, renewed every ${LEASE.EXECUTOR_HEARTBEAT_MS} ms; the reaper runs every
${LEASE.EXECUTOR_REAP_INTERVAL_MS} ms; a job whose lease was not renewed is killed by its watchdog 1,200 ms
(the default fence margin for this lease) before the lease could end. Executors: concurrency
10, claim batches of 5, poll every ${LEASE.EXECUTOR_POLL_INTERVAL_MS} ms besides NOTIFY.

| scenario | jobs | lost | stuck | failed | untracked runs | concurrent double runs | recovery (max) | executor crashes | 5xx | 503 (retried) | |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r} |`).join('\n')}

- **lost**: acknowledged (2xx with an id) but not in the database. **stuck**: not ended when
  the scenario's time was up. **failed**: ended but not succeeded (every chaos job succeeds
  when it is let run; its budget is 25 attempts).
- **untracked runs**: attempts the ledger saw start with no execution row; the check also
  counts attempt numbers a job used with no row.
- **concurrent double runs**: two attempts of one job alive at the same time, by the ledger
  (each job writes a line every 100 ms).
- **recovery**: from the kill or pause of an executor to the start, elsewhere, of each job it
  was running; the promise is at most lease + 5 s = ${RECOVERY_LIMIT_SECONDS} s.
- **executor crashes**: executors that exited without the harness ending them; nothing
  restarts them. **5xx**: answers of 500 and above other than 503 (for the fuzzer, any
  server failure, HTTP or gRPC). **503**: the API said Postgres was out of reach; the harness
  sent the same batch again (idempotency keys), so it counts once.

Notes from the run:
${notes.join('\n')}

## The scenarios

- (a) 5,000 jobs, no faults.
- (b) 20 times: SIGKILL the executor running the most jobs, start a new one.
- (c) Postgres restarted fast (SIGINT) at 30% of the submissions, immediate (SIGQUIT, crash
  recovery) at 60%.
- (d) \`pg_terminate_backend\` on every connection of the database, at 30% and at 60%.
- (e) SIGSTOP the busiest executor for lease + 6 s, then SIGCONT; twice. Also checked: no log
  line written by the woken executor into an attempt it had lost.
- (f) A session takes a running and a queued job's rows \`FOR UPDATE\` and idles in its
  transaction for 30 s.
- (g) fast-check: 10,000 generated requests for every REST route of the OpenAPI document and
  every JobService method, against a real job, workflow, secret and running attempt.
- (h) \`npm run chaos -- --soak\`: 30 minutes of steady submissions with a random fault of
  (b)-(e) every 45-90 s. Not part of this table unless run.

A bounded subset, (b)-(e) at smaller sizes and (g) at 1,000 cases, runs in \`npm test\`
(\`test/chaos.e2e-spec.ts\`).
`;
}
