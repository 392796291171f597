import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { ContainerLog } from './container-log';
import { timestamp } from './kube-time';

export interface ContainerLaunch {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** terminationMessagePolicy FallbackToLogsOnError: a failed container's message is its log's tail. */
  fallbackToLogsOnError: boolean;
  /** The host file behind the container's terminationMessagePath. */
  terminationMessageFile?: string;
  /** See ContainerLog's stderrLate. */
  stderrLate?: boolean;
}

/** A container's `state.terminated`. */
export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

/** What the kubelet keeps of a failed container's log as its termination message. */
const MESSAGE_LINES = 80;
const MESSAGE_BYTES = 2048;
/** What the kubelet reads of a termination message file. */
const TERMINATION_FILE_BYTES = 4096;
/** How long the output of a container's leftover processes is waited for once it has ended. */
const STDIO_DRAIN_MS = 1_000;

/**
 * One container, run as a local process in a process group of its own (detached), so that
 * signals reach the whole container. When its main process exits, the rest of its group is
 * killed, as the container's PID namespace would be torn down.
 */
export class ContainerProcess {
  readonly log: ContainerLog;
  readonly containerID = `containerd://${randomBytes(32).toString('hex')}`;
  readonly startedAt = timestamp();
  /** Undefined when the process could not be started (exited then resolves with StartError). */
  readonly pid: number | undefined;
  readonly exited: Promise<TerminatedState>;
  private readonly child: ChildProcess;
  private mainExited = false;
  private oomKilled = false;

  constructor(launch: ContainerLaunch) {
    this.log = new ContainerLog(launch.stderrLate);
    this.child = spawn(launch.argv[0], launch.argv.slice(1), {
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    this.child.stdout?.on('data', (chunk: Buffer) => this.log.append('stdout', chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.log.append('stderr', chunk));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        if (this.pid !== undefined) return;
        this.mainExited = true;
        this.log.end();
        resolve(this.startError(launch.argv[0], error));
      });
      this.child.once('exit', (code, signal) => {
        this.mainExited = true;
        this.killGroup('SIGKILL');
        const drained = new Promise((r) => this.child.once('close', r));
        const waited = new Promise((r) => setTimeout(r, STDIO_DRAIN_MS).unref());
        void Promise.race([drained, waited]).then(() => {
          this.log.end();
          resolve(this.terminated(code, signal, launch));
        });
      });
    });
  }

  /** Whether the process started and has not exited yet. */
  get running(): boolean {
    return this.pid !== undefined && !this.mainExited;
  }

  /**
   * Signals the container while its main process runs: SIGKILL to its whole process group,
   * other signals to the main process only, as the kubelet signals a container's PID 1.
   */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    if (signal === 'SIGKILL') {
      this.killGroup(signal);
      return;
    }
    try {
      process.kill(this.pid!, signal);
    } catch {
      // it has just exited
    }
  }

  /** Kills the container as the kernel's OOM killer would: SIGKILL, reason OOMKilled. */
  oomKill(): void {
    if (!this.running) return;
    this.oomKilled = true;
    this.killGroup('SIGKILL');
  }

  private killGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  private terminated(
    code: number | null,
    signal: NodeJS.Signals | null,
    launch: ContainerLaunch,
  ): TerminatedState {
    const signalNumber = signal ? constants.signals[signal] : undefined;
    const exitCode = code ?? 128 + (signalNumber ?? 0);
    const reason = this.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    // The file's content, whatever the exit code; else, on failure, the log's tail.
    const written = launch.terminationMessageFile
      ? readTermination(launch.terminationMessageFile)
      : '';
    const message =
      written ||
      (launch.fallbackToLogsOnError && exitCode !== 0
        ? this.log.tail(MESSAGE_LINES, MESSAGE_BYTES)
        : '');
    return {
      exitCode,
      ...(signalNumber !== undefined && { signal: signalNumber }),
      reason,
      ...(message && { message }),
      startedAt: this.startedAt,
      finishedAt: timestamp(),
      containerID: this.containerID,
    };
  }

  private startError(command: string, error: NodeJS.ErrnoException): TerminatedState {
    const why =
      error.code === 'ENOENT'
        ? `exec: "${command}": executable file not found in $PATH`
        : `exec: "${command}": ${error.message}`;
    return {
      exitCode: 128,
      reason: 'StartError',
      message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${why}: unknown`,
      startedAt: '1970-01-01T00:00:00Z',
      finishedAt: timestamp(),
      containerID: this.containerID,
    };
  }
}

/** A termination message file as the kubelet reads it: at most 4096 bytes. */
function readTermination(file: string): string {
  try {
    return readFileSync(file).subarray(0, TERMINATION_FILE_BYTES).toString();
  } catch {
    return '';
  }
}
