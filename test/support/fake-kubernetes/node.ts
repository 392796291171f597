import { timestamp } from './kube-time';

export const NODE_NAME = 'fake-node';

/**
 * What the one node offers when a test says nothing: enough for hundreds of cpu_long pods
 * at once, and no GPU.
 */
export const DEFAULT_ALLOCATABLE: Readonly<Record<string, string>> = {
  cpu: '1000',
  memory: '4Ti',
  pods: '1000',
  'ephemeral-storage': '100Gi',
};

export interface NodeOptions {
  /** status.allocatable: what pods may request in all, `pods` the number of pods. */
  allocatable?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * The one node, as the scheduler weighs it: a pod fits when its node selector matches the
 * node's labels and its requests fit beside the pods already bound there (not ended), the
 * pod count included. The reasons a pod does not fit read as kube-scheduler words them.
 */
export class FakeNode {
  readonly allocatable: Record<string, string>;
  readonly labels: Record<string, string>;
  private readonly created = timestamp();

  constructor(options: NodeOptions = {}) {
    this.allocatable = { ...DEFAULT_ALLOCATABLE, ...options.allocatable };
    this.labels = {
      'kubernetes.io/hostname': NODE_NAME,
      'kubernetes.io/os': 'linux',
      ...options.labels,
    };
  }

  /** null if the pod fits beside `bound`, else the scheduler's message. */
  whyNot(pod: any, bound: any[]): string | null {
    const selector: Record<string, string> = pod.spec.nodeSelector ?? {};
    if (Object.entries(selector).some(([key, value]) => this.labels[key] !== value)) {
      return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.";
    }
    const reasons: string[] = [];
    const pods = quantity(this.allocatable.pods ?? '110');
    if (bound.length + 1 > pods) reasons.push('Too many pods');
    const used = new Map<string, number>();
    for (const other of bound) {
      for (const [name, amount] of podRequests(other)) {
        used.set(name, (used.get(name) ?? 0) + amount);
      }
    }
    for (const [name, amount] of [...podRequests(pod)].sort(([a], [b]) => a.localeCompare(b))) {
      if (amount === 0) continue;
      const offered = this.allocatable[name] === undefined ? 0 : quantity(this.allocatable[name]);
      if ((used.get(name) ?? 0) + amount > offered) reasons.push(`Insufficient ${name}`);
    }
    if (reasons.length === 0) return null;
    return `0/1 nodes are available: ${reasons.map((r) => `1 ${r}`).join(', ')}.`;
  }

  /** The Node object, as GET /api/v1/nodes lists it. */
  toObject(): any {
    return {
      metadata: {
        name: NODE_NAME,
        uid: 'fake-node-uid',
        labels: this.labels,
        creationTimestamp: this.created,
      },
      spec: {},
      status: {
        capacity: this.allocatable,
        allocatable: this.allocatable,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      },
    };
  }
}

/**
 * A pod's requests as the scheduler sums them: the regular containers and native sidecars
 * together, or the largest plain init container (with the sidecars started before it)
 * where that is more. A limit without a request counts as the request.
 */
export function podRequests(pod: any): Map<string, number> {
  const total = new Map<string, number>();
  const add = (into: Map<string, number>, container: any) => {
    const resources = container.resources ?? {};
    const names = new Set([
      ...Object.keys(resources.requests ?? {}),
      ...Object.keys(resources.limits ?? {}),
    ]);
    for (const name of names) {
      const value = resources.requests?.[name] ?? resources.limits?.[name];
      into.set(name, (into.get(name) ?? 0) + quantity(String(value)));
    }
  };
  const sidecarsSoFar = new Map<string, number>();
  const initPeak = new Map<string, number>();
  for (const container of pod.spec.initContainers ?? []) {
    if (container.restartPolicy === 'Always') {
      add(total, container);
      add(sidecarsSoFar, container);
      continue;
    }
    const during = new Map(sidecarsSoFar);
    add(during, container);
    for (const [name, amount] of during) {
      initPeak.set(name, Math.max(initPeak.get(name) ?? 0, amount));
    }
  }
  for (const container of pod.spec.containers) add(total, container);
  for (const [name, amount] of initPeak) total.set(name, Math.max(total.get(name) ?? 0, amount));
  return total;
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A resource quantity ("500m", "1Gi", "2") as a number. */
export function quantity(text: string): number {
  const match = /^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/.exec(text.trim());
  const factor = match ? SUFFIXES[match[3]!] : undefined;
  if (!match || factor === undefined) throw new Error(`not a quantity: ${text}`);
  return Number(match[1]) * 10 ** Number(match[2] ?? 0) * factor;
}
