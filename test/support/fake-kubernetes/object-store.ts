import { randomUUID } from 'node:crypto';
import { timestamp } from './kube-time';
import { WatchHub, type Resource } from './watch-hub';

/**
 * The API server's storage: Jobs and pods by namespace and name, one resourceVersion counter
 * for every change (as etcd's revision), each change published to the watches. Controllers
 * change the live objects in place and then call update(), which publishes a snapshot.
 */
export class ObjectStore {
  readonly hub = new WatchHub(() => this.version);
  private version = 1000;
  private closed = false;
  private created = 0;
  private readonly creation = new WeakMap<object, number>();
  private readonly objects: Record<Resource, Map<string, any>> = {
    pods: new Map(),
    jobs: new Map(),
  };

  get resourceVersion(): number {
    return this.version;
  }

  get(resource: Resource, namespace: string, name: string): any | undefined {
    return this.objects[resource].get(key(namespace, name));
  }

  /** Whether `object` is still the stored one (not deleted, not replaced). */
  holds(resource: Resource, object: any): boolean {
    return this.get(resource, object.metadata.namespace, object.metadata.name) === object;
  }

  /** Live objects, by namespace and name (as etcd lists them); every namespace when omitted. */
  list(resource: Resource, namespace?: string): any[] {
    return [...this.objects[resource].entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  /** Which object was created first (timestamps have whole seconds). */
  creationOrder(object: any): number {
    return this.creation.get(object) ?? 0;
  }

  create(resource: Resource, object: any): any {
    this.creation.set(object, ++this.created);
    object.metadata.uid ??= randomUUID();
    object.metadata.creationTimestamp ??= timestamp();
    this.objects[resource].set(key(object.metadata.namespace, object.metadata.name), object);
    return this.publish('ADDED', resource, object);
  }

  update(resource: Resource, object: any): any {
    if (!this.holds(resource, object)) return snapshot(object);
    return this.publish('MODIFIED', resource, object);
  }

  delete(resource: Resource, object: any): any {
    if (!this.holds(resource, object)) return snapshot(object);
    this.objects[resource].delete(key(object.metadata.namespace, object.metadata.name));
    return this.publish('DELETED', resource, object);
  }

  /**
   * Compacts the history: a watch resumed from any resourceVersion seen so far gets 410 Gone
   * (a revision is spent, so that a list made afterwards can be watched from).
   */
  expireHistory(): void {
    this.hub.forgetHistory(++this.version);
  }

  /** After close, changes still made by ending processes are dropped. */
  close(): void {
    this.closed = true;
    this.hub.dropAll();
  }

  private publish(type: 'ADDED' | 'MODIFIED' | 'DELETED', resource: Resource, object: any): any {
    if (this.closed) return snapshot(object);
    object.metadata.resourceVersion = String(++this.version);
    const copy = snapshot(object);
    this.hub.publish(type, resource, copy);
    return copy;
  }
}

export function snapshot<T>(object: T): T {
  return structuredClone(object);
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
