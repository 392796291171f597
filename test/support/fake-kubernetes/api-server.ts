import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatLogEntry, type LogEntry } from './container-log';
import { propagationPolicy, type JobController } from './job-controller';
import { badRequest, failureStatus, KubeApiError, notFound } from './kube-status';
import type { Kubelet } from './kubelet';
import type { FakeNode } from './node';
import { parseFieldSelector, parseLabelSelector } from './label-selector';
import { snapshot, type ObjectStore } from './object-store';
import type { Resource } from './watch-hub';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** For a create: metadata.name of the object in the body, so creates can be told apart. */
  name?: string;
  /** Date.now() when it arrived. */
  at: number;
}

interface Call {
  request: IncomingMessage;
  response: ServerResponse;
  query: URLSearchParams;
  /** The path's captures: namespace, name. */
  params: string[];
  body: any;
}

type Handler = (call: Call) => void;

const TYPES: Record<Resource, { kind: string; apiVersion: string; resource: string }> = {
  pods: { kind: 'Pod', apiVersion: 'v1', resource: 'pods' },
  jobs: { kind: 'Job', apiVersion: 'batch/v1', resource: 'jobs.batch' },
};

/**
 * The HTTP surface: the few Kubernetes endpoints the runtime uses, answering as the real API
 * server does (JSON objects, Status objects for errors, chunked watch and log streams), and
 * every request recorded.
 */
export class ApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: [RegExp, Record<string, Handler>][];

  constructor(
    private readonly store: ObjectStore,
    private readonly jobs: JobController,
    private readonly kubelet: Kubelet,
    private readonly node: FakeNode,
  ) {
    this.routes = [
      [/^\/api\/v1\/pods$/, { GET: (c) => this.listOrWatch('pods', undefined, c) }],
      [/^\/api\/v1\/nodes$/, { GET: (c) => this.listNodes(c) }],
      [/^\/api\/v1\/nodes\/([^/]+)$/, { GET: (c) => this.readNode(c) }],
      [
        /^\/api\/v1\/namespaces\/([^/]+)\/pods$/,
        { GET: (c) => this.listOrWatch('pods', c.params[0], c) },
      ],
      [
        /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/,
        { GET: (c) => this.readPod(c), DELETE: (c) => this.deletePod(c) },
      ],
      [/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/, { GET: (c) => this.log(c) }],
      [/^\/apis\/batch\/v1\/jobs$/, { GET: (c) => this.listOrWatch('jobs', undefined, c) }],
      [
        /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/,
        { GET: (c) => this.listOrWatch('jobs', c.params[0], c), POST: (c) => this.createJob(c) },
      ],
      [
        /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/,
        {
          GET: (c) => this.readJob(c),
          PATCH: (c) => this.patchJob(c),
          DELETE: (c) => this.deleteJob(c),
        },
      ],
      [
        /^\/version$/,
        {
          GET: (c) =>
            sendJson(c.response, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-fake' }),
        },
      ],
      [/^\/(healthz|livez|readyz)$/, { GET: (c) => sendText(c.response, 200, 'ok') }],
    ];
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://fake-kubernetes');
    const query = url.searchParams;
    const method = request.method ?? 'GET';
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(query),
      watch: parseBool(query.get('watch')),
      at: Date.now(),
    };
    this.requests.push(recorded);
    void readBody(request).then((raw) => {
      if (method === 'POST') recorded.name = createdName(raw);
      try {
        const route = this.routes.find(([pattern]) => pattern.test(url.pathname));
        if (!route) {
          throw new KubeApiError(
            404,
            'NotFound',
            'the server could not find the requested resource',
          );
        }
        const handler = route[1][method];
        if (!handler) {
          throw new KubeApiError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        }
        const params = route[0].exec(url.pathname)!.slice(1).map(decodeURIComponent);
        handler({ request, response, query, params, body: parseBody(raw) });
      } catch (error) {
        sendError(response, error);
      }
    });
  };

  private listOrWatch(
    resource: Resource,
    namespace: string | undefined,
    { query, response }: Call,
  ): void {
    const labels = parseLabelSelector(query.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
    const matches = (object: any) =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      labels(object.metadata.labels) &&
      fields(object);
    const current = () => this.store.list(resource, namespace).filter(matches).map(snapshot);
    const { kind, apiVersion } = TYPES[resource];
    if (parseBool(query.get('watch'))) {
      const version = query.get('resourceVersion');
      const since = version && version !== '0' ? Number(version) : null;
      if (since !== null && !(Number.isInteger(since) && since >= 0)) {
        throw badRequest(
          `resourceVersion: Invalid value: "${version}": must be a resource version`,
        );
      }
      this.store.hub.watch(response, {
        resource,
        matches,
        since,
        current,
        type: { kind, apiVersion },
        bookmarks: parseBool(query.get('allowWatchBookmarks')),
        timeoutSeconds: integer(query, 'timeoutSeconds'),
      });
      return;
    }
    // As the API server lists: the items without their kind and apiVersion.
    const items = current().map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item);
    sendJson(response, 200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    });
  }

  private listNodes({ response }: Call): void {
    sendJson(response, 200, {
      kind: 'NodeList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items: [this.node.toObject()],
    });
  }

  private readNode({ params: [name], response }: Call): void {
    const node = this.node.toObject();
    if (name !== node.metadata.name) throw notFound('nodes', name);
    sendJson(response, 200, { kind: 'Node', apiVersion: 'v1', ...node });
  }

  private readPod({ params: [namespace, name], response }: Call): void {
    sendJson(response, 200, snapshot(this.pod(namespace, name)));
  }

  private deletePod({ params: [namespace, name], query, body, response }: Call): void {
    const pod = this.pod(namespace, name);
    const grace = integer(query, 'gracePeriodSeconds') ?? body?.gracePeriodSeconds ?? undefined;
    this.kubelet.deletePod(pod, grace);
    sendJson(response, 200, snapshot(pod));
  }

  private log({ params: [namespace, name], query, response }: Call): void {
    const pod = this.pod(namespace, name);
    const log = this.kubelet.containerLog(
      pod,
      query.get('container') || undefined,
      parseBool(query.get('previous')),
    );
    const timestamps = parseBool(query.get('timestamps'));
    const sinceTime = query.get('sinceTime');
    const sinceSeconds = integer(query, 'sinceSeconds');
    if (sinceTime && Number.isNaN(Date.parse(sinceTime))) {
      throw badRequest(`sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
    }
    const since = sinceTime
      ? Date.parse(sinceTime)
      : sinceSeconds !== null
        ? Date.now() - sinceSeconds * 1000
        : undefined;
    const tailLines = integer(query, 'tailLines') ?? undefined;
    let remaining = integer(query, 'limitBytes') ?? Infinity;
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.flushHeaders();
    const write = (entry: LogEntry): boolean => {
      let text = formatLogEntry(entry, timestamps);
      if (Buffer.byteLength(text) > remaining) {
        text = Buffer.from(text).subarray(0, remaining).toString();
      }
      remaining -= Buffer.byteLength(text);
      response.write(text);
      return remaining > 0;
    };
    for (const entry of log.select({ since, tailLines })) {
      if (!write(entry)) return void response.end();
    }
    if (!parseBool(query.get('follow')) || log.ended) return void response.end();
    const unfollow = log.follow((entry) => {
      if (entry && write(entry)) return;
      unfollow();
      response.end();
    });
    response.on('close', unfollow);
  }

  private createJob({ params: [namespace], query, body, response }: Call): void {
    sendJson(response, 201, this.jobs.create(namespace, body, query.get('dryRun') === 'All'));
  }

  private readJob({ params: [namespace, name], response }: Call): void {
    const job = this.store.get('jobs', namespace, name);
    if (!job) throw notFound('jobs.batch', name);
    sendJson(response, 200, snapshot(job));
  }

  private patchJob({ params: [namespace, name], request, body, response }: Call): void {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
    sendJson(response, 200, this.jobs.patch(namespace, name, type, body));
  }

  private deleteJob({ params: [namespace, name], query, body, response }: Call): void {
    const policy = propagationPolicy(query, body);
    const result = this.jobs.delete(namespace, name, policy);
    sendJson(response, result.kind === 'Status' ? 200 : 202, result);
  }

  private pod(namespace: string, name: string): any {
    const pod = this.store.get('pods', namespace, name);
    if (!pod) throw notFound('pods', name);
    return pod;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', () => resolve(''));
  });
}

function parseBody(raw: string): any {
  if (!raw.trim()) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest(
      'the body of the request was in an unknown format - accepted media types include: application/json',
    );
  }
}

/** As Go's strconv.ParseBool reads query flags. */
function parseBool(value: string | null): boolean {
  return value !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

function integer(query: URLSearchParams, name: string): number | null {
  const value = query.get(name);
  if (value === null || value === '') return null;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw badRequest(`${name}: Invalid value: "${value}": must be a non-negative integer`);
  }
  return number;
}

function sendJson(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, code: number, body: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain' });
  response.end(body);
}

function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof KubeApiError) {
    sendJson(response, error.code, error.toStatus());
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendJson(response, 500, failureStatus(500, 'InternalError', `fake Kubernetes: ${message}`));
}

function createdName(raw: string): string | undefined {
  try {
    const name = (JSON.parse(raw) as { metadata?: { name?: unknown } }).metadata?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
