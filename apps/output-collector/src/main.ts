/**
 * The output-collector: a native sidecar beside a job's container in its Kubernetes pod.
 * It waits; the kubelet sends it SIGTERM once the job's container has ended (whatever its
 * exit code), and then it uploads what the job left in DANUBE_OUTPUT_DIR and reports
 * DANUBE_RESULT_FILE to the JobService, within COLLECTOR_DEADLINE_MS.
 *
 * Exit codes: 0 everything arrived; 1 something did not (the last line, on stderr, says
 * what: the kubelet makes the last log lines the termination message, which the executor
 * records); 2 bad configuration.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { OutputCollector } from './collect-outputs';
import { loadCollectorOptions, type CollectorOptions } from './collector.config';

const PROGRAM = 'output-collector';

function say(stream: NodeJS.WriteStream, message: string): void {
  stream.write(`${PROGRAM}: ${message}\n`);
}

let finished = false;

let terminationLog: string | null = null;

/** Writes the last line (also as the termination message) and exits; only the first call counts. */
function finish(code: number, line: string): void {
  if (finished) return;
  finished = true;
  say(code === 0 ? process.stdout : process.stderr, line);
  if (terminationLog) {
    try {
      writeFileSync(terminationLog, `${line}\n`);
    } catch {
      // Not in a pod, or not writable: the log line above is all there is.
    }
  }
  process.exit(code);
}

function main(): void {
  let options: CollectorOptions;
  try {
    options = loadCollectorOptions(process.env);
  } catch (error) {
    say(process.stderr, error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  terminationLog = options.terminationLog;

  // Signal handlers alone do not keep Node running: this timer does, firing every 24 days.
  const idle = setInterval(() => undefined, 2 ** 31 - 1);
  let collector: OutputCollector | null = null;

  const onSignal = (signal: NodeJS.Signals) => {
    if (collector) {
      say(process.stdout, `${signal} again: still collecting, until the deadline at the latest`);
      return;
    }
    clearInterval(idle);
    say(process.stdout, `${signal}: the job's container has ended; collecting its outputs`);
    collector = new OutputCollector({
      ...options,
      log: (level, message) => say(level === 'info' ? process.stdout : process.stderr, message),
    });
    const running = collector;
    // Calls end before this by their own deadline; this is for whatever else could hang.
    setTimeout(() => finish(1, running.summaryAtDeadline()), options.deadlineMs);
    running.collect().then(
      (report) => finish(report.ok ? 0 : 1, report.summary),
      (error: unknown) =>
        finish(
          1,
          `failed while collecting the outputs of job ${options.jobId} attempt ${options.attempt}: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (options.readyFile) {
    try {
      // The job's container starts after this: its outputs folder is there for it.
      mkdirSync(options.outputDir, { recursive: true });
      writeFileSync(options.readyFile, `${process.pid}\n`);
    } catch (error) {
      finish(
        1,
        `could not create ${options.outputDir} or ${options.readyFile} (${
          error instanceof Error ? error.message : String(error)
        }); is /danube a writable shared volume?`,
      );
      return;
    }
  }

  say(
    process.stdout,
    `waiting for the container of job ${options.jobId} attempt ${options.attempt} to end; then uploading ${options.outputDir} and ${options.resultFile} to the JobService at ${options.address} within ${options.deadlineMs} ms`,
  );
}

main();
