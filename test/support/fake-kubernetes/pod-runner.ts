import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContainerProcess, type ContainerLaunch, type TerminatedState } from './container-process';
import { timestamp } from './kube-time';
import { PathMapping } from './path-mapping';
import type { Timers } from './timers';

/** A plain init container runs to completion first; a native sidecar (restartPolicy Always) keeps running. */
export type ContainerKind = 'init' | 'sidecar' | 'regular';

export interface ContainerRun {
  name: string;
  spec: any;
  kind: ContainerKind;
  /** Why it has not started: ErrImagePull, ImagePullBackOff, CreateContainerConfigError. */
  waiting: { reason: string; message?: string } | null;
  process: ContainerProcess | null;
  /** Its startupProbe passed (at once when it has none): the next container may start. */
  startupPassed: boolean;
  terminated: TerminatedState | null;
}

export interface PodRunnerOptions {
  /** The pod's own temp dir: its emptyDir volumes and the default working directory. */
  dir: string;
  hostPaths: Record<string, string>;
  imagePullFails: (image: string) => boolean;
  /** A command to run instead of a container's own, by image (see runInstead). */
  commandFor: (image: string) => string[] | undefined;
  /** See ContainerLog's stderrLate. */
  stderrLate: boolean;
  timers: Timers;
  /** A container changed state: the pod's status should be written again. */
  changed: () => void;
}

const IMAGE_PULL_BACKOFF_MS = 1_000;
const EVICTION_MESSAGE = 'The node was low on resource: memory. ';

/**
 * The kubelet's work for one scheduled pod: starts its containers in order (plain init
 * containers to completion, native sidecars, then the regular containers), stops the
 * sidecars once every regular container has ended, stops everything on deletion (SIGTERM,
 * SIGKILL after the grace period) and writes the pod's status from its containers' states.
 */
export class PodRunner {
  readonly runs: ContainerRun[];
  private stopRequested = false;
  private evicted = false;
  private initFailed = false;
  private initialized = false;
  private killDeadline = Infinity;
  private cancelKill: (() => void) | null = null;
  private cancelBackoff: (() => void) | null = null;
  private readonly probes = new Set<ChildProcess>();

  constructor(
    private readonly pod: any,
    private readonly options: PodRunnerOptions,
  ) {
    const run = (spec: any, kind: ContainerKind): ContainerRun => ({
      name: spec.name,
      spec,
      kind,
      waiting: null,
      process: null,
      startupPassed: false,
      terminated: null,
    });
    this.runs = [
      ...(pod.spec.initContainers ?? []).map((spec: any) =>
        run(spec, spec.restartPolicy === 'Always' ? 'sidecar' : 'init'),
      ),
      ...pod.spec.containers.map((spec: any) => run(spec, 'regular')),
    ];
    mkdirSync(join(options.dir, 'root'), { recursive: true });
    for (const volume of this.pod.spec.volumes ?? []) {
      if (volume.emptyDir) mkdirSync(this.volumeDir(volume.name), { recursive: true });
    }
  }

  get graceSeconds(): number {
    return this.pod.spec.terminationGracePeriodSeconds ?? 30;
  }

  start(): void {
    void this.startInOrder();
  }

  /** Stops every container (regular ones first, then sidecars), SIGKILL after `graceSeconds`. */
  async terminate(graceSeconds: number): Promise<void> {
    this.stopRequested = true;
    this.cancelBackoff?.();
    this.killAfter(graceSeconds);
    const first = this.runs.filter((r) => r.kind !== 'sidecar' && r.process?.running);
    for (const run of first) run.process!.signal('SIGTERM');
    await Promise.all(first.map((r) => r.process!.exited));
    this.stopSidecars(graceSeconds);
    await this.allEnded();
  }

  /** Eviction: every container is killed at once; the pod ends Failed, reason Evicted. */
  async evict(): Promise<void> {
    this.evicted = true;
    await this.kill();
  }

  async kill(): Promise<void> {
    this.stopRequested = true;
    this.cancelBackoff?.();
    for (const probe of this.probes) probe.kill('SIGKILL');
    for (const run of this.runs) run.process?.signal('SIGKILL');
    await this.allEnded();
  }

  oomKill(containerName: string): boolean {
    const run = this.runs.find((r) => r.name === containerName && r.process?.running);
    run?.process!.oomKill();
    return Boolean(run);
  }

  processIds(): number[] {
    return this.runs.flatMap((r) => (r.process?.running ? [r.process.pid!] : []));
  }

  removeDirs(): void {
    rmSync(this.options.dir, { recursive: true, force: true });
  }

  phase(): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
    const regular = this.runs.filter((r) => r.kind === 'regular');
    const anyRunning = this.runs.some((r) => r.process && !r.terminated);
    if (!anyRunning) {
      if (this.evicted || this.initFailed) return 'Failed';
      if (regular.every((r) => r.terminated)) {
        return regular.every((r) => r.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
      }
      if (this.stopRequested) return 'Failed';
    }
    return this.initialized && regular.every((r) => r.process) ? 'Running' : 'Pending';
  }

  /** Writes phase, conditions and container statuses into `status` (PodScheduled is the kubelet's). */
  writeStatus(status: any): void {
    const blocking = this.runs.filter((r) => r.kind !== 'regular');
    this.initialized ||= blocking.every((r) =>
      r.kind === 'init' ? r.terminated?.exitCode === 0 : r.startupPassed,
    );
    const phase = this.phase();
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    status.phase = phase;
    status.hostIP = '127.0.0.1';
    status.hostIPs = [{ ip: '127.0.0.1' }];
    status.podIP = '127.0.0.1';
    status.podIPs = [{ ip: '127.0.0.1' }];
    const unready = this.runs.filter(
      (r) => r.kind !== 'init' && !(r.process?.running && r.startupPassed),
    );
    const notReady = unready.length
      ? {
          reason: terminal ? 'PodCompleted' : 'ContainersNotReady',
          message: `containers with unready status: [${unready.map((r) => r.name).join(' ')}]`,
        }
      : null;
    const incomplete = blocking.filter((r) => !r.terminated && !r.process?.running);
    setCondition(status, 'PodReadyToStartContainers', !terminal);
    setCondition(
      status,
      'Initialized',
      this.initialized,
      this.initialized
        ? {}
        : {
            reason: 'ContainersNotInitialized',
            message: `containers with incomplete status: [${incomplete.map((r) => r.name).join(' ')}]`,
          },
    );
    setCondition(status, 'Ready', !notReady, notReady ?? {});
    setCondition(status, 'ContainersReady', !notReady, notReady ?? {});
    if (this.evicted) {
      status.reason = 'Evicted';
      status.message = EVICTION_MESSAGE;
      setCondition(status, 'DisruptionTarget', true, {
        reason: 'TerminationByKubelet',
        message: EVICTION_MESSAGE,
      });
    }
    if (blocking.length)
      status.initContainerStatuses = blocking.map((r) => this.containerStatus(r));
    status.containerStatuses = this.runs
      .filter((r) => r.kind === 'regular')
      .map((r) => this.containerStatus(r));
  }

  private async startInOrder(): Promise<void> {
    for (const run of this.runs.filter((r) => r.kind !== 'regular')) {
      if (this.stopRequested || !this.startContainer(run)) return;
      if (run.kind === 'sidecar' && !(await this.startupProbe(run))) return;
      if (run.kind === 'init') {
        const end = await run.process!.exited;
        if (end.exitCode !== 0) {
          this.initFailed = true;
          this.stopSidecars(this.graceSeconds);
          return;
        }
      }
    }
    if (this.stopRequested) return;
    const regular = this.runs.filter((r) => r.kind === 'regular');
    const started = regular.filter((r) => this.startContainer(r));
    // A container that cannot start (its image, its config) keeps the pod Pending until deleted.
    if (started.length < regular.length) return;
    await Promise.all(started.map((r) => r.process!.exited));
    this.stopSidecars(this.graceSeconds);
  }

  /** Pulls the image and starts the process; false when the container cannot start. */
  private startContainer(run: ContainerRun): boolean {
    const image: string = run.spec.image;
    if (this.options.imagePullFails(image)) {
      run.waiting = {
        reason: 'ErrImagePull',
        message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`,
      };
      this.cancelBackoff = this.options.timers.after(IMAGE_PULL_BACKOFF_MS, () => {
        run.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
        this.options.changed();
      });
      this.options.changed();
      return false;
    }
    const launch = this.launch(run);
    if (typeof launch === 'string') {
      run.waiting = { reason: 'CreateContainerConfigError', message: launch };
      this.options.changed();
      return false;
    }
    run.process = new ContainerProcess(launch);
    run.startupPassed = !run.spec.startupProbe?.exec && run.process.pid !== undefined;
    void run.process.exited.then((terminated) => {
      run.terminated = terminated;
      this.options.changed();
    });
    this.options.changed();
    return true;
  }

  /**
   * A sidecar's exec startupProbe, as the kubelet runs it before it starts the next
   * container: after initialDelaySeconds, every periodSeconds, until it exits 0; after
   * failureThreshold failures the sidecar is killed and the pod goes no further.
   */
  private async startupProbe(run: ContainerRun): Promise<boolean> {
    const probe = run.spec.startupProbe;
    if (!probe?.exec?.command?.length) return run.startupPassed;
    const launch = this.launch(run, probe.exec.command);
    if (typeof launch === 'string') return false;
    const wait = (seconds: number) =>
      new Promise<void>((resolve) => this.options.timers.after(seconds * 1000, resolve));
    await wait(probe.initialDelaySeconds ?? 0);
    for (let failures = 0; ;) {
      if (this.stopRequested || !run.process?.running) return false;
      if (await this.probeOnce(launch, probe.timeoutSeconds ?? 1)) {
        run.startupPassed = true;
        this.options.changed();
        return true;
      }
      if (++failures >= (probe.failureThreshold ?? 3)) {
        run.process.signal('SIGKILL');
        return false;
      }
      await wait(probe.periodSeconds ?? 10);
    }
  }

  private probeOnce(launch: ContainerLaunch, timeoutSeconds: number): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = spawn(launch.argv[0], launch.argv.slice(1), {
        cwd: launch.cwd,
        env: launch.env,
        stdio: 'ignore',
        timeout: timeoutSeconds * 1000,
        killSignal: 'SIGKILL',
      });
      this.probes.add(probe);
      const done = (passed: boolean) => {
        this.probes.delete(probe);
        resolve(passed);
      };
      probe.once('error', () => done(false));
      probe.once('close', (code) => done(code === 0));
    });
  }

  /**
   * argv, env and working directory on the host (of the container's command, or of
   * `probeCommand` run in its environment); a string says why the container cannot run.
   */
  private launch(run: ContainerRun, probeCommand?: string[]): ContainerLaunch | string {
    const command = probeCommand ?? this.options.commandFor(run.spec.image);
    const spec = command ? { ...run.spec, command, args: [] } : run.spec;
    const where = `container "${run.name}" of pod "${this.pod.metadata.name}"`;
    if (!spec.command?.length) {
      return `${where} has no command: the fake Kubernetes runs containers as local processes and knows no image entrypoints; set command`;
    }
    if (spec.envFrom?.length) {
      return `${where} uses envFrom, which the fake Kubernetes does not support; use env with value`;
    }
    // The kubelet mounts a file at terminationMessagePath; its content is the message.
    const terminationFile = join(this.options.dir, 'termination', run.name);
    mkdirSync(dirname(terminationFile), { recursive: true });
    const paths = this.pathMapping(spec, {
      [spec.terminationMessagePath ?? '/dev/termination-log']: terminationFile,
    });
    const root = join(this.options.dir, 'root');
    const env: Record<string, string> = {
      PATH: hostPath(),
      HOSTNAME: this.pod.metadata.name,
      HOME: root,
    };
    for (const variable of spec.env ?? []) {
      if (variable.valueFrom) {
        return `${where}: env ${variable.name} uses valueFrom, which the fake Kubernetes does not support; give it a value`;
      }
      env[variable.name] = paths.map(variable.value ?? '');
    }
    const cwd = spec.workingDir ? paths.map(spec.workingDir) : root;
    if (cwd.startsWith(this.options.dir)) mkdirSync(cwd, { recursive: true });
    return {
      argv: [...spec.command, ...(spec.args ?? [])].map((arg: string) => paths.map(arg)),
      env,
      cwd,
      fallbackToLogsOnError: spec.terminationMessagePolicy === 'FallbackToLogsOnError',
      terminationMessageFile: terminationFile,
      stderrLate: this.options.stderrLate,
    };
  }

  /** The container's view of the filesystem: its emptyDir and hostPath mounts, then hostPaths. */
  private pathMapping(spec: any, files: Record<string, string>): PathMapping {
    const mappings: Record<string, string> = { ...this.options.hostPaths, ...files };
    for (const mount of spec.volumeMounts ?? []) {
      const volume = (this.pod.spec.volumes ?? []).find((v: any) => v.name === mount.name);
      const source = volume?.emptyDir
        ? this.volumeDir(volume.name)
        : volume?.hostPath
          ? volume.hostPath.path
          : undefined;
      if (source) mappings[mount.mountPath] = mount.subPath ? join(source, mount.subPath) : source;
    }
    return new PathMapping(mappings);
  }

  private volumeDir(name: string): string {
    return join(this.options.dir, 'volumes', name);
  }

  private stopSidecars(graceSeconds: number): void {
    const sidecars = this.runs.filter((r) => r.kind !== 'regular' && r.process?.running);
    if (!sidecars.length) return;
    this.killAfter(graceSeconds);
    for (const run of sidecars.reverse()) run.process!.signal('SIGTERM');
  }

  /** SIGKILL whatever still runs in `graceSeconds` (a shorter grace period replaces a longer one). */
  private killAfter(graceSeconds: number): void {
    const deadline = Date.now() + graceSeconds * 1000;
    if (deadline >= this.killDeadline) return;
    this.killDeadline = deadline;
    this.cancelKill?.();
    const killAll = () => this.runs.forEach((r) => r.process?.signal('SIGKILL'));
    if (graceSeconds <= 0) killAll();
    else this.cancelKill = this.options.timers.after(graceSeconds * 1000, killAll);
  }

  private allEnded(): Promise<unknown> {
    return Promise.all(this.runs.flatMap((r) => (r.process ? [r.process.exited] : [])));
  }

  private containerStatus(run: ContainerRun): any {
    const started = run.process?.pid !== undefined;
    const running = Boolean(run.process?.running && !run.terminated);
    const state = run.terminated
      ? { terminated: run.terminated }
      : running
        ? { running: { startedAt: run.process!.startedAt } }
        : {
            waiting: run.waiting ?? {
              reason:
                run.kind === 'regular' && this.initialized
                  ? 'ContainerCreating'
                  : 'PodInitializing',
            },
          };
    return {
      name: run.name,
      image: run.spec.image,
      imageID: started ? `${run.spec.image}@sha256:${sha256(run.spec.image)}` : '',
      ...(run.process && { containerID: run.process.containerID }),
      ready: run.kind === 'init' ? run.terminated?.exitCode === 0 : running && run.startupPassed,
      started: running && run.startupPassed,
      restartCount: 0,
      state,
      lastState: {},
    };
  }
}

function setCondition(
  status: any,
  type: string,
  value: boolean,
  details: { reason?: string; message?: string } = {},
): void {
  status.conditions ??= [];
  const wanted = value ? 'True' : 'False';
  const index = status.conditions.findIndex((c: any) => c.type === type);
  const existing = status.conditions[index];
  const condition = {
    type,
    status: wanted,
    lastProbeTime: null,
    lastTransitionTime: existing?.status === wanted ? existing.lastTransitionTime : timestamp(),
    ...details,
  };
  if (index === -1) status.conditions.push(condition);
  else status.conditions[index] = condition;
}

/** The test process's PATH, with this node's directory last, so that `node` is found. */
function hostPath(): string {
  const path = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const nodeDir = dirname(process.execPath);
  return path.split(':').includes(nodeDir) ? path : `${path}:${nodeDir}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
