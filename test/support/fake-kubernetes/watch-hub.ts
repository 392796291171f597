import type { ServerResponse } from 'node:http';
import { failureStatus } from './kube-status';

export type Resource = 'pods' | 'jobs';
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  resource: Resource;
  resourceVersion: number;
  object: any;
  line: string;
}

export interface WatchRequest {
  resource: Resource;
  matches: (object: any) => boolean;
  /** Send the events after this resourceVersion; null: first the current objects, as ADDED. */
  since: number | null;
  /** The matching objects as they are now (for since null). */
  current: () => any[];
  /** kind and apiVersion of the BOOKMARK objects. */
  type: { kind: string; apiVersion: string };
  bookmarks: boolean;
  timeoutSeconds: number | null;
}

interface Watcher {
  resource: Resource;
  matches: (object: any) => boolean;
  response: ServerResponse;
  stop: () => void;
}

const HISTORY_SIZE = 10_000;
const BOOKMARK_INTERVAL_MS = 1_000;

/**
 * Watches, as the API server streams them: newline-delimited `{type, object}` JSON on a
 * chunked 200 response. Keeps a window of past events so that a client can resume from the
 * resourceVersion it last saw; from before that window it gets an ERROR event with a 410
 * Expired Status (and the stream ends), which @kubernetes/client-node's informer answers by
 * listing again.
 */
export class WatchHub {
  private readonly history: StoredEvent[] = [];
  /** Events up to this resourceVersion are forgotten. */
  private forgottenThrough = 0;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly currentVersion: () => number) {}

  get openWatches(): number {
    return this.watchers.size;
  }

  /** `object` is a snapshot carrying the event's resourceVersion. */
  publish(type: EventType, resource: Resource, object: any): void {
    const event: StoredEvent = {
      resource,
      resourceVersion: Number(object.metadata.resourceVersion),
      object,
      line: `${JSON.stringify({ type, object })}\n`,
    };
    this.history.push(event);
    if (this.history.length > HISTORY_SIZE) {
      const forgotten = this.history.splice(0, HISTORY_SIZE / 2);
      this.forgottenThrough = forgotten[forgotten.length - 1].resourceVersion;
    }
    for (const watcher of this.watchers) {
      if (watcher.resource === resource && watcher.matches(object)) {
        watcher.response.write(event.line);
      }
    }
  }

  watch(response: ServerResponse, request: WatchRequest): void {
    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    response.flushHeaders();
    const send = (type: string, object: any) =>
      response.write(`${JSON.stringify({ type, object })}\n`);
    if (request.since !== null && request.since < this.forgottenThrough) {
      send(
        'ERROR',
        failureStatus(
          410,
          'Expired',
          `too old resource version: ${request.since} (${this.forgottenThrough + 1})`,
        ),
      );
      response.end();
      return;
    }
    if (request.since === null) {
      for (const object of request.current()) send('ADDED', object);
    } else {
      for (const event of this.history) {
        if (
          event.resourceVersion > request.since &&
          event.resource === request.resource &&
          request.matches(event.object)
        ) {
          response.write(event.line);
        }
      }
    }
    const bookmark = () =>
      send('BOOKMARK', {
        ...request.type,
        metadata: { resourceVersion: String(this.currentVersion()) },
      });
    const timers = [
      request.bookmarks ? setInterval(bookmark, BOOKMARK_INTERVAL_MS) : null,
      request.timeoutSeconds ? setTimeout(() => stop(), request.timeoutSeconds * 1000) : null,
    ];
    const watcher: Watcher = {
      resource: request.resource,
      matches: request.matches,
      response,
      stop: () => stop(),
    };
    const forget = () => {
      timers.forEach((timer) => timer && clearTimeout(timer));
      this.watchers.delete(watcher);
    };
    const stop = () => {
      forget();
      response.end();
    };
    response.on('close', forget);
    this.watchers.add(watcher);
  }

  /** Ends every open watch, as an API server restart or a load balancer would. */
  dropAll(): void {
    for (const watcher of [...this.watchers]) watcher.stop();
  }

  /** Forgets the events up to `resourceVersion`, as etcd compaction does. */
  forgetHistory(resourceVersion: number): void {
    this.history.splice(0, this.history.filter((e) => e.resourceVersion <= resourceVersion).length);
    this.forgottenThrough = Math.max(this.forgottenThrough, resourceVersion);
  }
}
