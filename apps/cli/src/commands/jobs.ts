import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { createParser } from 'eventsource-parser';
import ora from 'ora';
import { parse as parseYaml } from 'yaml';
import { ApiClient, CliError, EXIT } from '../api-client';
import type {
  ExecutionView,
  JobView,
  LogLineView,
  SubmittedJobView,
  WhyView,
} from '@danube/sdk/rest-client';
import { STATUS_MARK, print, table, time } from '../output';

const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'];

export interface GlobalOptions {
  url: string;
  json?: boolean;
}

type Client = (command: Command) => { api: ApiClient; json: boolean };

/** KEY=VALUE, repeatable, into a record. */
export function keyValue(value: string, previous: Record<string, string> = {}) {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** --run-at: an ISO 8601 time, or a delay from now such as 30s, 10m, 2h, 1d. */
export function runAt(value: string, now = Date.now()): string {
  const delay = /^(\d+)(s|m|h|d)$/.exec(value);
  if (delay) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[delay[2] as 's'];
    return new Date(now + Number(delay[1]) * unit).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value)))
    throw new InvalidArgumentError(
      `expected a time such as 2026-12-24T18:00:00Z or a delay such as 30s, 10m, 2h, got "${value}"`,
    );
  return new Date(value).toISOString();
}

/** A job spec file: JSON, or YAML (.yaml/.yml or anything that is not JSON). */
export function readSpecFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
      EXIT.usage,
    );
  }
}

/** The exit code that says how a waited-for job ended. */
export function exitCodeOf(job: {
  status: string;
  error: { exitCode: number | null } | null;
}): number {
  switch (job.status) {
    case 'succeeded':
      return EXIT.ok;
    case 'failed':
      return job.error?.exitCode && job.error.exitCode > 0 && job.error.exitCode < 256
        ? job.error.exitCode
        : EXIT.failed;
    case 'timed_out':
      return EXIT.timedOut;
    default:
      return EXIT.cancelled;
  }
}

function jobLine(job: JobView): string {
  const error = job.error ? ` (${job.error.category}: ${job.error.message})` : '';
  return `job ${job.id} ${STATUS_MARK[job.status] ?? job.status} ${job.status}, attempt ${job.attempts}/${job.maxAttempts}${error}`;
}

function jobDetails(job: JobView): string {
  const rows: [string, unknown][] = [
    ['id', job.id],
    ['status', job.status],
    ['topic', job.topic],
    ['command', Array.isArray(job.command) ? JSON.stringify(job.command) : job.command],
    ['attempts', `${job.attempts}/${job.maxAttempts}`],
    ['progress', job.progress === null ? '' : `${job.progress}% ${job.statusMessage ?? ''}`],
    ['result', job.result === null ? '' : JSON.stringify(job.result)],
    ['error', job.error ? `${job.error.category}: ${job.error.message}` : ''],
    ['created', job.createdAt],
    ['started', job.startedAt ?? ''],
    ['finished', job.finishedAt ?? ''],
  ];
  return rows.map(([k, v]) => `${k.padEnd(9)} ${String(v)}`).join('\n');
}

/** `danube why`: one line per reason, or that nothing holds the job. */
export function whyLines(why: WhyView): string {
  if (why.reasons.length === 0) return `job ${why.jobId} is ${why.status}; nothing holds it back`;
  return why.reasons.map((r) => `- ${r.message}`).join('\n');
}

/** Why a waiting job waits, for `danube get`; null from an API that cannot say (404). */
async function whyItWaits(api: ApiClient, id: string): Promise<WhyView | null> {
  try {
    return await api.get<WhyView>(`/v1/jobs/${encodeURIComponent(id)}/why`);
  } catch (error) {
    if (error instanceof CliError && error.status === 404) return null;
    throw error;
  }
}

async function waitForJob(api: ApiClient, id: string, json: boolean): Promise<JobView> {
  // --json is for scripts: stdout is the job, and stderr stays quiet.
  const spinner = ora({
    isSilent: json,
    text: `job ${id}: queued`,
    stream: process.stderr,
    isEnabled: !json && process.stderr.isTTY,
  });
  spinner.start();
  let delay = 100;
  try {
    for (;;) {
      const job = await api.get<JobView>(`/v1/jobs/${id}`);
      spinner.text = `job ${id}: ${job.status}${job.progress !== null ? ` ${job.progress}%` : ''}${job.statusMessage ? ` ${job.statusMessage}` : ''}`;
      if (TERMINAL.includes(job.status)) {
        if (job.status === 'succeeded') spinner.succeed();
        else spinner.fail();
        return job;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 1000);
    }
  } finally {
    spinner.stop();
  }
}

/** The last attempt's stderr tail, on stderr: what a failed job said before it ended. */
async function printStderrTail(api: ApiClient, id: string): Promise<void> {
  const { items } = await api.get<{ items: ExecutionView[] }>(`/v1/jobs/${id}/executions`);
  const tail = items.at(-1)?.stderrTail?.trimEnd();
  if (tail)
    process.stderr.write(`--- stderr of attempt ${items.at(-1)!.attempt} (its end):\n${tail}\n`);
}

/** What `danube cancel` did: a job that had not started is cancelled; a running one will stop. */
export function cancelLine(job: JobView): string {
  if (job.status === 'cancelled') return `job ${job.id} cancelled`;
  if (job.cancelRequestedAt)
    return `cancel requested; job ${job.id} (${job.status}) will stop, and end cancelled`;
  return jobLine(job);
}

/** Prints a job's log lines as they are written (SSE), until it ends. */
async function followLogs(api: ApiClient, id: string, json: boolean): Promise<void> {
  const response = await api.stream(`/v1/jobs/${id}/logs?follow=true`);
  let ended = false;
  const parser = createParser({
    onEvent(event) {
      const data = JSON.parse(event.data);
      if (event.event === 'end') {
        ended = true;
        return;
      }
      const line = json ? JSON.stringify(data) : data.line;
      (data.stream === 'stderr' && !json ? process.stderr : process.stdout).write(`${line}\n`);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (ended) break;
  }
}

export function registerJobCommands(program: Command, client: Client): void {
  program
    .command('submit')
    .description('submit a job; the command is given after --, or with --shell, or in --file')
    .argument('[command...]', 'argv of the command to run')
    .option('-t, --topic <topic>', 'topic', undefined)
    .option('-c, --shell <script>', 'a script run by /bin/sh -c')
    .option('-f, --file <file>', 'a job spec as JSON or YAML (flags override its fields)')
    .option('-e, --env <KEY=VALUE>', 'an environment variable (repeatable)', keyValue)
    .option('-l, --label <KEY=VALUE>', 'a label (repeatable)', keyValue)
    .option('--secret <name>', 'a secret the job may read (repeatable)', collect)
    .option('--timeout <seconds>', 'longest an attempt may run', wholeNumber)
    .option('--max-attempts <n>', 'attempts in all', wholeNumber)
    .option('--priority <n>', 'higher runs first', wholeNumber)
    .option('--idempotency-key <key>', 'submitting the same key again returns the same job')
    .option('--task-class <class>', 'cpu_short (default), cpu_long, gpu or gpu_slurm')
    .option('--run-at <time>', 'run no earlier than this: an ISO time, or 30s, 10m, 2h, 1d', (v) =>
      runAt(v),
    )
    .option('--image <image>', 'the container image (kubernetes runtime)')
    .option('-w, --wait', 'wait for the job to end and exit with its exit code')
    .action(async (argv: string[], options, command: Command) => {
      const { api, json } = client(command);
      const spec: Record<string, unknown> = options.file ? readSpecFile(options.file) : {};
      if (argv.length > 0 && options.shell) {
        throw new CliError(
          'give the command either after -- or with --shell, not both',
          EXIT.usage,
        );
      }
      if (argv.length > 0) spec.command = argv;
      if (options.shell) spec.command = options.shell;
      if (spec.command === undefined) {
        throw new CliError(
          'no command: give it after -- (danube submit -- echo hi), with --shell, or in --file',
          EXIT.usage,
        );
      }
      spec.topic = options.topic ?? spec.topic ?? 'default';
      if (options.env) spec.env = { ...(spec.env as object), ...options.env };
      if (options.label) spec.labels = { ...(spec.labels as object), ...options.label };
      if (options.secret) spec.secrets = options.secret;
      if (options.timeout !== undefined) spec.timeoutSeconds = options.timeout;
      if (options.maxAttempts !== undefined) spec.maxAttempts = options.maxAttempts;
      if (options.priority !== undefined) spec.priority = options.priority;
      if (options.idempotencyKey) spec.idempotencyKey = options.idempotencyKey;
      if (options.taskClass) spec.taskClass = options.taskClass;
      if (options.runAt) spec.runAt = options.runAt;
      if (options.image) spec.image = options.image;
      const job = await api.post<SubmittedJobView>('/v1/jobs', spec);
      // On stderr, so that stdout stays the job (or its JSON) for scripts.
      for (const warning of job.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (!options.wait) {
        print(json, job, () => `submitted job ${job.id} (topic ${job.topic})`);
        return;
      }
      const done = await waitForJob(api, job.id, json);
      print(json, done, () => jobLine(done));
      if (done.status !== 'succeeded' && !json) await printStderrTail(api, done.id);
      process.exitCode = exitCodeOf(done);
    });

  program
    .command('get')
    .description('show a job')
    .argument('<id>', 'job id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const job = await api.get<JobView>(`/v1/jobs/${encodeURIComponent(id)}`);
      print(json, job, () => jobDetails(job));
      // --json keeps its shape (the job); scripts ask `danube why` themselves.
      if (json || !['queued', 'blocked', 'running'].includes(job.status)) return;
      const why = await whyItWaits(api, job.id);
      if (why && why.reasons.length > 0) {
        process.stdout.write(
          `Why it waits:\n${why.reasons.map((r) => `  - ${r.message}`).join('\n')}\n`,
        );
      }
    });

  program
    .command('why')
    .description('say why a queued or blocked job has not started')
    .argument('<id>', 'job id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const why = await api.get<WhyView>(`/v1/jobs/${encodeURIComponent(id)}/why`);
      print(json, why, () => whyLines(why));
    });

  program
    .command('list')
    .description('list jobs, newest first')
    .option('-t, --topic <topic>', 'only this topic')
    .option('-s, --status <status>', 'only this status')
    .option('-n, --limit <n>', 'how many', wholeNumber, 20)
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (options.topic) query.set('topic', options.topic);
      if (options.status) query.set('status', options.status);
      const page = await api.get<{ items: JobView[] }>(`/v1/jobs?${query}`);
      print(json, page, () =>
        table(
          ['id', 'topic', 'status', 'attempts', 'created', 'finished'],
          page.items.map((j) => [
            j.id,
            j.topic,
            j.status,
            `${j.attempts}/${j.maxAttempts}`,
            time(j.createdAt),
            time(j.finishedAt),
          ]),
        ),
      );
    });

  program
    .command('logs')
    .description("print a job's output")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing lines as they are written, until the job ends')
    .action(async (id: string, options, command: Command) => {
      const { api, json } = client(command);
      if (options.follow) return followLogs(api, id, json);
      let after = '0';
      for (;;) {
        const page = await api.get<{ lines: LogLineView[]; nextAfter: string }>(
          `/v1/jobs/${encodeURIComponent(id)}/logs?after=${after}&limit=10000`,
        );
        for (const line of page.lines) {
          if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
          else (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.line}\n`);
        }
        if (page.lines.length === 0) return;
        after = page.nextAfter;
      }
    });

  program
    .command('cancel')
    .description('cancel a job (a running one is stopped)')
    .argument('<id>', 'job id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const job = await api.post<JobView>(`/v1/jobs/${encodeURIComponent(id)}/cancel`);
      print(json, job, () => cancelLine(job));
    });

  program
    .command('retry')
    .description('queue a failed, timed-out or cancelled job again')
    .argument('<id>', 'job id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const job = await api.post<JobView>(`/v1/jobs/${encodeURIComponent(id)}/retry`);
      print(
        json,
        job,
        () => `job ${job.id} queued again, with ${job.maxAttempts - job.attempts} more attempts`,
      );
    });
}
