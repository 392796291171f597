import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, type RecordedRequest } from './api-server';
import { JobController, type JobFailureConditions } from './job-controller';
import { Kubelet } from './kubelet';
import { writeKubeconfig } from './kubeconfig';
import { FakeNode, type NodeOptions } from './node';
import { ObjectStore, snapshot } from './object-store';
import { Timers } from './timers';

export interface FakeKubernetesOptions {
  /** Container path prefixes -> host directories, for the "image filesystem", e.g. { '/app': repoRoot }. */
  hostPaths?: Record<string, string>;
  /** An image that cannot be pulled (default: names starting with 'missing.invalid/'). */
  imagePullFails?: (image: string) => boolean;
  /** The one node's allocatable resources and labels (default: DEFAULT_ALLOCATABLE, no GPU). */
  node?: NodeOptions;
  /**
   * Each stderr line reaches the container log after the next stdout line, keeping its
   * earlier timestamp, as containerd may write them (default false: in order).
   */
  stderrLate?: boolean;
  /** How a failed Job's conditions are written (default: 'target-first', as 1.31+). */
  jobFailureConditions?: JobFailureConditions;
}

export interface FakeKubernetes {
  url: string;
  /** A kubeconfig file pointing at url, with a current context. */
  kubeconfigPath: string;
  /** Every request so far, watches and log streams included. */
  requests(): RecordedRequest[];
  resetRequests(): void;
  /** Successful creates of a Job of that name (refused duplicates not counted). */
  jobsCreated(name: string): number;
  /** The Job of that name as stored now (any namespace). */
  job(name: string): any | undefined;
  /** The newest pod of that Job (any namespace). */
  podOf(jobName: string): any | undefined;
  /** Every pod stored now (any namespace). */
  pods(): any[];
  /** PIDs of the containers' main processes still running. */
  processIds(): number[];
  /** SIGKILLs the Job's `main` container; its terminated state says OOMKilled, exit code 137. */
  oomKill(jobName: string): void;
  /** Evicts the Job's pod (memory pressure): every container killed, phase Failed, reason Evicted. */
  evict(jobName: string): void;
  /** Ends every open watch; clients must watch again (or list again). */
  dropWatches(): void;
  /** Forgets the watch event history, as etcd compaction does: resuming an older watch gets 410. */
  expireWatchHistory(): void;
  /**
   * Containers of `image` started from now on run `argv` instead of their command (null:
   * their own again): a light stand-in for a program a test does not exercise.
   */
  runInstead(image: string, argv: string[] | null): void;
  /** Kills every process it started, closes the server, removes its temp dirs. */
  close(): Promise<void>;
}

/**
 * A stand-in for a Kubernetes cluster, for tests: an HTTP API server (no TLS, no auth) with
 * Jobs and pods, watches and logs, and one node of limited size (see node.ts) that runs each
 * pod's containers as local processes. See the files beside this one for each part.
 */
export async function startFakeKubernetes(
  options: FakeKubernetesOptions = {},
): Promise<FakeKubernetes> {
  const dir = mkdtempSync(join(tmpdir(), 'danube-fake-kubernetes-'));
  const timers = new Timers();
  const store = new ObjectStore();
  const standIns = new Map<string, string[]>();
  const node = new FakeNode(options.node);
  const kubelet: Kubelet = new Kubelet(
    store,
    timers,
    {
      dir: join(dir, 'pods'),
      hostPaths: options.hostPaths ?? {},
      imagePullFails: options.imagePullFails ?? ((image) => image.startsWith('missing.invalid/')),
      node,
      commandFor: (image) => standIns.get(image),
      stderrLate: options.stderrLate ?? false,
    },
    {
      podChanged: (pod) => jobs.podChanged(pod),
      podFinished: (pod) => jobs.podFinished(pod),
      podRemoved: (pod) => jobs.podRemoved(pod),
    },
  );
  const jobs = new JobController(store, kubelet, timers, options.jobFailureConditions);
  const api = new ApiServer(store, jobs, kubelet, node);
  const server = createServer(api.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const jobNamed = (name: string) => store.list('jobs').find((j) => j.metadata.name === name);
  const livePodOf = (jobName: string) =>
    store
      .list('pods')
      .filter((p) => p.metadata.labels?.['job-name'] === jobName)
      .sort((a, b) => store.creationOrder(a) - store.creationOrder(b))
      .at(-1);
  const requirePod = (jobName: string) => {
    const pod = livePodOf(jobName);
    if (!pod) throw new Error(`the Job ${jobName} has no pod`);
    return pod;
  };
  let closed: Promise<void> | null = null;

  return {
    url,
    kubeconfigPath: writeKubeconfig(dir, url),
    requests: () => api.requests.map((r) => ({ ...r, query: { ...r.query } })),
    resetRequests: () => void (api.requests.length = 0),
    jobsCreated: (name) => jobs.createdCount(name),
    job: (name) => {
      const job = jobNamed(name);
      return job && snapshot(job);
    },
    podOf: (jobName) => {
      const pod = livePodOf(jobName);
      return pod && snapshot(pod);
    },
    pods: () => store.list('pods').map(snapshot),
    processIds: () => kubelet.processIds(),
    runInstead: (image, argv) => {
      if (argv) standIns.set(image, argv);
      else standIns.delete(image);
    },
    oomKill: (jobName) => {
      const pod = requirePod(jobName);
      const names: string[] = pod.spec.containers.map((c: any) => c.name);
      kubelet.oomKill(pod, names.includes('main') ? 'main' : names[0]);
    },
    evict: (jobName) => kubelet.evict(requirePod(jobName)),
    dropWatches: () => store.hub.dropAll(),
    expireWatchHistory: () => store.expireHistory(),
    close() {
      closed ??= (async () => {
        timers.stop();
        store.close();
        await kubelet.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
