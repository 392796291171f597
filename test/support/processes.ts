import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';

/**
 * Every process a test (or the chaos harness) starts is started here: in a process group
 * of its own, so that it can be ended with everything it started, and written to a
 * registry file (DANUBE_TEST_PROCESS_REGISTRY, set by the global setup), so that the global
 * teardown ends whatever a test left behind, also when its setup failed or its worker died.
 */
export const REGISTRY_ENV = 'DANUBE_TEST_PROCESS_REGISTRY';

/** Process groups started here and not yet seen to end: what killAllTracked() ends. */
const live = new Set<number>();

/** Output kept per process: enough for any test's checks, bounded for long chaos runs. */
const MAX_OUTPUT_CHARS = 8 * 1024 * 1024;

export interface TrackedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it wrote to stdout and stderr (the middle is dropped past MAX_OUTPUT_CHARS). */
  output(): string;
  /** Resolves when it has exited, with its exit code (null when ended by a signal). */
  readonly exited: Promise<number | null>;
  readonly hasExited: boolean;
  /** Sends `signal` to the process alone (SIGSTOP/SIGCONT, SIGTERM for a graceful stop). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to its whole process group; resolves once it has exited. */
  kill(): Promise<void>;
}

export function spawnTracked(
  command: string,
  args: string[],
  options: Omit<SpawnOptions, 'detached' | 'stdio'> & { stdin?: 'ignore' | 'pipe' } = {},
): TrackedProcess {
  const { stdin = 'ignore', ...rest } = options;
  const child = spawn(command, args, { ...rest, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
  registerProcess(child);
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > MAX_OUTPUT_CHARS) {
      const keep = MAX_OUTPUT_CHARS / 4;
      output = `${output.slice(0, keep)}\n[... output cut ...]\n${output.slice(-2 * keep)}`;
    }
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      hasExited = true;
      resolve(code);
    });
    child.on('error', () => {
      hasExited = true;
      resolve(null);
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    get hasExited() {
      return hasExited;
    },
    signal(signal) {
      if (!hasExited) child.kill(signal);
    },
    async kill() {
      if (!hasExited) killGroup(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

/**
 * Tracks a process spawned elsewhere with `detached: true` (its own process group): it is
 * ended by the global teardown if still running then, and what it leaves in its group is
 * ended when it exits.
 */
export function registerProcess(child: ChildProcess): void {
  if (child.pid === undefined) {
    // spawn reports why on 'error'; the caller's exit handling carries it on.
    child.on('error', () => undefined);
    return;
  }
  const pid = child.pid;
  register(String(pid));
  live.add(pid);
  child.on('exit', () => {
    live.delete(pid);
    // What it started in its group is orphaned now: end it, and strike the group from the
    // registry, whose number the system may give to someone else's process from now on.
    killGroup(pid, 'SIGKILL');
    register(`done ${pid}`);
  });
}

/**
 * Tracks a process group that a child of ours started on its own (the embedded Postgres of
 * `npm start`, in a group of its own): the global teardown ends it if it is still there.
 */
export function registerPid(pid: number): void {
  register(String(pid));
}

function register(line: string): void {
  const registry = process.env[REGISTRY_ENV];
  if (registry) appendFileSync(registry, `${line}\n`);
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone already
  }
}

/**
 * Ends, at once, every process group this process started that is still there: for a
 * harness told to stop (SIGINT, SIGTERM) with processes of its own in other groups, which
 * the terminal's signal does not reach.
 */
export function killAllTracked(): void {
  for (const pid of live) killGroup(pid, 'SIGKILL');
  live.clear();
}

/** Ends every registered process group whose leader was not seen to exit; returns how many. */
export function killRegistered(registry: string): number {
  if (!existsSync(registry)) return 0;
  const lines = readFileSync(registry, 'utf8').split('\n');
  const done = new Set(lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5)));
  let killed = 0;
  for (const line of lines) {
    const pid = Number(line);
    if (pid > 0 && !done.has(line) && killGroup(pid, 'SIGKILL')) killed++;
  }
  rmSync(registry, { force: true });
  return killed;
}
