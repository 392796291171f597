import type { Writable } from 'node:stream';
import type { V1Job, V1Node, V1Pod } from './kubernetes-types';

type ClientNode = typeof import('@kubernetes/client-node', {
  with: { 'resolution-mode': 'import' },
});

/** Called once per Kubernetes API request: its verb, HTTP status (0: no answer) and duration. */
export type RequestObserver = (verb: string, code: number, seconds: number) => void;

/** An error the Kubernetes API answered with, or 0 when it did not answer at all. */
export class KubeRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeClientOptions {
  inCluster: boolean;
  namespace: string;
  observe: RequestObserver;
}

/**
 * The few Kubernetes calls the runtime makes, each timed for
 * danube_kubernetes_request_duration_seconds and failing with a KubeRequestError that keeps
 * the status code. @kubernetes/client-node is an ES module, loaded here with import().
 */
export class KubeClient {
  private constructor(
    readonly k8s: ClientNode,
    readonly config: InstanceType<ClientNode['KubeConfig']>,
    private readonly batch: InstanceType<ClientNode['BatchV1Api']>,
    private readonly core: InstanceType<ClientNode['CoreV1Api']>,
    private readonly logs: InstanceType<ClientNode['Log']>,
    private readonly options: KubeClientOptions,
  ) {}

  static async connect(options: KubeClientOptions): Promise<KubeClient> {
    const k8s: ClientNode = await import('@kubernetes/client-node');
    const config = new k8s.KubeConfig();
    if (options.inCluster) config.loadFromCluster();
    else config.loadFromDefault();
    if (!config.getCurrentCluster()) {
      throw new Error(
        'no Kubernetes cluster configured: set K8S_IN_CLUSTER=true inside a cluster, or KUBECONFIG to a kubeconfig file with a current context',
      );
    }
    return new KubeClient(
      k8s,
      config,
      config.makeApiClient(k8s.BatchV1Api),
      config.makeApiClient(k8s.CoreV1Api),
      new k8s.Log(config),
      options,
    );
  }

  get server(): string {
    return this.config.getCurrentCluster()!.server;
  }

  createJob(job: V1Job): Promise<V1Job> {
    return this.timed('create', () =>
      this.batch.createNamespacedJob({ namespace: this.options.namespace, body: job }),
    );
  }

  readJob(name: string): Promise<V1Job> {
    return this.timed('get', () =>
      this.batch.readNamespacedJob({ name, namespace: this.options.namespace }),
    );
  }

  /**
   * Sets the Job's activeDeadlineSeconds (a JSON Patch, the client's default patch type):
   * one of the few fields of a Job that may change after it is created.
   */
  setJobDeadline(name: string, seconds: number): Promise<V1Job> {
    return this.timed('patch', () =>
      this.batch.patchNamespacedJob({
        name,
        namespace: this.options.namespace,
        body: [{ op: 'add', path: '/spec/activeDeadlineSeconds', value: seconds }],
      }),
    );
  }

  /** The cluster's nodes (cluster-scoped: the executor's ClusterRole may list them). */
  async listNodes(): Promise<V1Node[]> {
    const list = await this.timed('list', () => this.core.listNode());
    return list.items;
  }

  /** Deletes a Job and, in the background, its pods; a Job already gone is not an error. */
  async deleteJob(name: string): Promise<void> {
    try {
      await this.timed('delete', () =>
        this.batch.deleteNamespacedJob({
          name,
          namespace: this.options.namespace,
          propagationPolicy: 'Background',
        }),
      );
    } catch (error) {
      if (!(error instanceof KubeRequestError && error.code === 404)) throw error;
    }
  }

  listPods(labelSelector: string) {
    return this.timed('list', () =>
      this.core.listNamespacedPod({ namespace: this.options.namespace, labelSelector }),
    );
  }

  /**
   * Follows a container's log into `into` until the container ends, each line prefixed by
   * the kubelet's timestamp (from `sinceTime`'s whole second on); resolves once connected.
   */
  followLog(
    pod: string,
    container: string,
    into: Writable,
    sinceTime?: Date,
  ): Promise<AbortController> {
    return this.timed('log', () =>
      this.logs.log(this.options.namespace, pod, container, into, {
        follow: true,
        timestamps: true,
        ...(sinceTime && { sinceTime: sinceTime.toISOString().replace(/\.\d+Z$/, 'Z') }),
      }),
    );
  }

  /** One informer over the namespace's pods matching `labelSelector`. */
  podInformer(labelSelector: string) {
    const path = `/api/v1/namespaces/${this.options.namespace}/pods`;
    return this.k8s.makeInformer<V1Pod>(
      this.config,
      path,
      () => this.listPods(labelSelector),
      labelSelector,
    );
  }

  /** Records a watch (re)connection, which the informer makes without going through timed(). */
  observeWatch(): void {
    this.options.observe('watch', 200, 0);
  }

  private async timed<T>(verb: string, call: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await call();
      this.options.observe(verb, 200, seconds());
      return result;
    } catch (error) {
      const code = statusCode(error);
      this.options.observe(verb, code, seconds());
      throw new KubeRequestError(
        code,
        `Kubernetes ${verb} failed${code ? ` (HTTP ${code})` : ''}: ${reason(error)}`,
      );
    }
  }
}

function statusCode(error: unknown): number {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : 0;
}

/** The API's own message when it sent a Status, else the error's. */
function reason(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not JSON: fall through
    }
  } else if (body && typeof body === 'object' && 'message' in body) {
    return String((body as { message: unknown }).message);
  }
  return error instanceof Error ? error.message : String(error);
}
