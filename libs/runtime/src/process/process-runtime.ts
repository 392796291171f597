import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MAX_RESULT_BYTES, exitOutcome, type Outcome } from '@danube/core';
import { LineSplitter } from '../output-tail';
import {
  stoppedOutcome,
  type AttemptContext,
  type RunHandle,
  type Runtime,
  type StopReason,
} from '../runtime';

export interface ProcessRuntimeOptions {
  /** Each attempt gets a fresh directory under this one. */
  workRoot: string;
  /** How long a stopped attempt gets between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Keep attempt directories after the attempt ends (for debugging). */
  keepWorkDirs: boolean;
}

/**
 * The job runs in its own process group under a tiny bash watchdog, a process apart from
 * the executor. The watchdog holds the read end of a pipe from the executor (fd 3) and
 * kills the whole group with SIGKILL when
 *   - the pipe closes: the executor died (even by SIGKILL), or the job ended and the
 *     executor closed it, which also reaps anything the job left in the background; or
 *   - no line arrives in time: each line the executor writes after renewing its lease is
 *     the number of seconds the job may run on ($1 before the first). An executor that is
 *     paused, starved or cut off from Postgres stops writing, and its jobs die before its
 *     lease can run out, so they never overlap with the attempt of the executor that takes
 *     the job over.
 * The watchdog ignores SIGTERM and SIGINT: stopping a job signals its whole group, and the
 * watchdog must outlive the job to reap what it leaves behind.
 */
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '(',
  "  trap '' TERM INT HUP",
  '  t=$1',
  '  if [ -z "$t" ]; then read -r _ <&3; else while read -r -t "$t" t <&3; do :; done; fi',
  '  kill -KILL 0',
  ') >/dev/null 2>&1 &',
  'shift',
  'exec "$@" 3<&-',
].join('\n');

/** Variables a job inherits from the executor; everything else (DATABASE_URL...) stays out. */
const INHERITED_ENV = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_EXTRA_CA_CERTS'];

/**
 * Bash reads ~/.bashrc even with -c when its stdin is a socket (its check for remote
 * shells), and Node's stdio pipes are sockets: a user's .bashrc (pyenv init, say) would run
 * before every job and can block on its own locks. --norc and --noprofile keep it out.
 */
const BASH_OPTIONS = ['--norc', '--noprofile'];

/** Runs each attempt as a local child process: the runtime for laptops, CI and `npm start`. */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  /**
   * Spawning is synchronous and costs 10-20 ms (fork and exec of the watchdog). Starts take
   * turns, one spawn per turn of the event loop, so that a burst of starts (a claim of
   * hundreds) lets lease renewals, writes and log reads run between spawns instead of
   * blocking them all for seconds.
   */
  private spawnTurns: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProcessRuntimeOptions) {}

  private nextSpawnTurn(): Promise<void> {
    const turn = this.spawnTurns.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.spawnTurns = turn;
    return turn;
  }

  /**
   * The runtime, once it has checked that `bash` 4 or later is on PATH: the watchdog's
   * `read -t` with a fractional timeout needs it (macOS's /bin/bash 3.2 does not have it).
   */
  static async create(options: ProcessRuntimeOptions): Promise<ProcessRuntime> {
    const version = await new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        [...BASH_OPTIONS, '-c', 'read -r -t 0.01 _ </dev/null; echo "${BASH_VERSINFO[0]}"'],
        { timeout: 60_000 },
        (error, stdout) =>
          error?.killed
            ? reject(new Error('bash did not answer within 60 s: is this machine overloaded?'))
            : resolve(error ? '' : stdout.trim()),
      ),
    );
    if (!(Number(version) >= 4)) {
      throw new Error(
        `the process runtime needs bash 4 or later on PATH (each job runs under a bash watchdog that enforces the executor's lease); ${version ? `found bash ${version}` : 'no bash was found'}: install a newer bash`,
      );
    }
    return new ProcessRuntime(options);
  }

  async start(context: AttemptContext): Promise<RunHandle> {
    const { job, attempt } = context;
    await mkdir(this.options.workRoot, { recursive: true });
    const workDir = await mkdtemp(join(this.options.workRoot, `job-${job.id}-${attempt}-`));
    const outputDir = join(workDir, 'outputs');
    await mkdir(outputDir);
    const resultFile = join(workDir, 'result.json');

    const env: Record<string, string> = {};
    for (const name of INHERITED_ENV) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, job.spec.env, context.env, {
      HOME: workDir,
      DANUBE_JOB_ID: job.id,
      DANUBE_ATTEMPT: String(attempt),
      DANUBE_TOPIC: job.topic,
      DANUBE_WORK_DIR: workDir,
      DANUBE_OUTPUT_DIR: outputDir,
      DANUBE_RESULT_FILE: resultFile,
    });

    const command = job.spec.command;
    const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : command;
    await this.nextSpawnTurn();
    const limit = context.fenceAt === undefined ? '' : secondsUntil(context.fenceAt).toFixed(3);
    const child = spawn('bash', [...BASH_OPTIONS, '-c', WATCHDOG, 'danube-job', limit, ...argv], {
      cwd: workDir,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new ProcessHandle(child, context, workDir, resultFile, this.options);
  }

  /** A local process cannot be re-attached from another executor. */
  async adopt(): Promise<RunHandle | null> {
    return null;
  }

  async close(): Promise<void> {}
}

/**
 * Seconds from now until `at` (performance.now() clock), for the watchdog's `read -t`;
 * at least a millisecond, because `read -t 0` only polls and would never time out.
 */
function secondsUntil(at: number): number {
  return Math.max(0.001, (at - performance.now()) / 1000);
}

class ProcessHandle implements RunHandle {
  readonly ref: string;
  private readonly outcome: Promise<Outcome>;
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;
  private stopReason: StopReason | null = null;
  private exited = false;
  private killTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly child: ChildProcess,
    private readonly context: AttemptContext,
    private readonly workDir: string,
    private readonly resultFile: string,
    private readonly options: ProcessRuntimeOptions,
  ) {
    this.ref = `process:${hostname()}:${child.pid ?? 0}`;
    // Only stderr's tail goes into the execution record.
    this.stdout = new LineSplitter((line) => context.onLog('stdout', line), 0);
    this.stderr = new LineSplitter((line) => context.onLog('stderr', line));
    child.stdout!.on('data', (chunk: Buffer) => this.stdout.write(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.write(chunk));
    // The watchdog's pipe: an EPIPE when the group is already gone is expected.
    child.stdin!.on('error', () => undefined);
    this.outcome = new Promise<Outcome>((resolve) => {
      child.on('error', (error) => {
        this.exited = true;
        resolve({
          kind: 'failed',
          category: 'infra',
          message: `could not start the process: ${error.message}`,
        });
      });
      child.on('exit', () => {
        this.exited = true;
        // Closing the watchdog's pipe kills whatever the job left in its process group,
        // so that 'close' (all output read) is not held up by a stray background process.
        child.stdin!.end();
      });
      child.on('close', (code, signal) => {
        this.exited = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        this.stdout.end();
        this.stderr.end();
        void this.judge(code, signal).then(resolve, (error: Error) =>
          resolve({
            kind: 'failed',
            category: 'infra',
            message: `could not read the attempt's result: ${error.message}`,
          }),
        );
      });
    });
  }

  wait(): Promise<Outcome> {
    return this.outcome;
  }

  stderrTail(): string {
    return this.stderr.tailText();
  }

  fence(at: number): void {
    if (this.exited) return;
    this.child.stdin!.write(`${secondsUntil(at).toFixed(3)}\n`);
  }

  async stop(reason: StopReason): Promise<void> {
    if (this.exited) return;
    this.stopReason ??= reason;
    this.signalGroup('SIGTERM');
    this.killTimer ??= setTimeout(() => this.signalGroup('SIGKILL'), this.options.killGraceMs);
    await this.outcome;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private async judge(code: number | null, signal: NodeJS.Signals | null): Promise<Outcome> {
    try {
      if (this.stopReason) return stoppedOutcome(this.stopReason, this.context.job.timeoutSeconds);
      const outcome = exitOutcome({ code, signal });
      return outcome.kind === 'succeeded' ? { ...outcome, ...(await this.readResult()) } : outcome;
    } finally {
      if (!this.options.keepWorkDirs)
        await rm(this.workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** The result, or why result.json was ignored (also said in the job's log). */
  private async readResult(): Promise<{ result?: unknown; warning?: string }> {
    const info = await stat(this.resultFile).catch(() => null);
    if (!info) return {};
    const ignored = (why: string) => {
      this.context.onLog('stderr', `danube: ${why}`);
      return { warning: why };
    };
    if (info.size > MAX_RESULT_BYTES) {
      return ignored(
        `result.json is ${info.size} bytes; results over ${MAX_RESULT_BYTES} bytes are ignored`,
      );
    }
    const text = await readFile(this.resultFile, 'utf8');
    try {
      return { result: JSON.parse(text) };
    } catch (error) {
      return ignored(`result.json is not valid JSON (${(error as Error).message}) and was ignored`);
    }
  }
}
