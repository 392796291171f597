import { quantityAmount } from '@danube/core';
import { KubeRequestError, type KubeClient } from './kube-client';
import type { V1Container, V1Node, V1Pod } from './kubernetes-types';

/** How long one list of the nodes answers for every pod that asks. */
const NODES_FRESH_MS = 15_000;

/**
 * Whether an unschedulable pod could ever run on the cluster's current nodes:
 *   fits     some node offers every resource it asks for (and matches its node selector):
 *            it only waits for room, however long that takes
 *   never    no node does, e.g. it asks for more CPU than any node has, or for a GPU on a
 *            cluster without GPUs: waiting will not help
 *   unknown  the nodes could not be read (the executor may not list them): the caller
 *            falls back to failing after the unschedulable limit
 */
export type FitVerdict =
  { kind: 'fits' } | { kind: 'never'; why: string } | { kind: 'unknown'; why: string };

/**
 * Weighs pods against the nodes' allocatable resources, ignoring what other pods use now.
 * Taints and affinity are not weighed (a node selector is): a pod kept off every node by
 * them alone is taken to fit. One node list, shared by all of an executor's pods, is kept
 * for NODES_FRESH_MS.
 */
export class NodeFit {
  private nodes: { at: number; list: Promise<V1Node[]> } | null = null;

  constructor(private readonly client: KubeClient) {}

  async check(pod: V1Pod): Promise<FitVerdict> {
    let nodes: V1Node[];
    try {
      nodes = await this.currentNodes();
    } catch (error) {
      const why =
        error instanceof KubeRequestError && error.code === 403
          ? 'the executor may not list nodes (grant it list on nodes: deploy/k8s/rbac.yaml)'
          : `the nodes could not be listed: ${(error as Error).message}`;
      return { kind: 'unknown', why };
    }
    return fitOnNodes(podRequests(pod), pod.spec?.nodeSelector ?? {}, nodes);
  }

  private currentNodes(): Promise<V1Node[]> {
    if (!this.nodes || Date.now() - this.nodes.at > NODES_FRESH_MS) {
      const list = this.client.listNodes();
      this.nodes = { at: Date.now(), list };
      list.catch(() => (this.nodes = null));
    }
    return this.nodes.list;
  }
}

/** The verdict for a pod asking for `requests`, on `nodes`. */
export function fitOnNodes(
  requests: Map<string, number>,
  nodeSelector: Record<string, string>,
  nodes: V1Node[],
): FitVerdict {
  const selected = nodes.filter((node) =>
    Object.entries(nodeSelector).every(([key, value]) => node.metadata?.labels?.[key] === value),
  );
  if (selected.length === 0) {
    return {
      kind: 'never',
      why: `no node has the labels of its nodeSelector (${Object.entries(nodeSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')})`,
    };
  }
  const short = new Map<string, number>();
  for (const node of selected) {
    const missing = [...requests].filter(([name, amount]) => {
      const offered = node.status?.allocatable?.[name];
      const has = offered === undefined ? 0 : amountOf(offered);
      // A quantity this code cannot read is not held against the node.
      return !Number.isNaN(has) && amount > has;
    });
    if (missing.length === 0) return { kind: 'fits' };
    for (const [name] of missing) short.set(name, (short.get(name) ?? 0) + 1);
  }
  const lacking = [...short.keys()].map((name) => {
    const largest = Math.max(
      0,
      ...selected
        .map((n) => amountOf(n.status?.allocatable?.[name] ?? '0'))
        .filter((a) => !Number.isNaN(a)),
    );
    return `${name} ${formatAmount(requests.get(name)!)} (the most any node offers: ${formatAmount(largest)})`;
  });
  return {
    kind: 'never',
    why: `no node offers what it asks for: ${lacking.join(', ')}`,
  };
}

/**
 * A pod's requests as the scheduler sums them: regular containers and native sidecars
 * together, or the largest plain init container (with the sidecars started before it)
 * where that is more. A limit without a request counts as the request.
 */
export function podRequests(pod: V1Pod): Map<string, number> {
  const total = new Map<string, number>();
  const sidecars = new Map<string, number>();
  const initPeak = new Map<string, number>();
  for (const container of pod.spec?.initContainers ?? []) {
    if (container.restartPolicy === 'Always') {
      addRequests(total, container);
      addRequests(sidecars, container);
      continue;
    }
    const during = new Map(sidecars);
    addRequests(during, container);
    for (const [name, amount] of during)
      initPeak.set(name, Math.max(initPeak.get(name) ?? 0, amount));
  }
  for (const container of pod.spec?.containers ?? []) addRequests(total, container);
  for (const [name, amount] of initPeak) total.set(name, Math.max(total.get(name) ?? 0, amount));
  for (const [name, amount] of total) if (amount === 0 || Number.isNaN(amount)) total.delete(name);
  return total;
}

function addRequests(into: Map<string, number>, container: V1Container): void {
  const { requests = {}, limits = {} } = container.resources ?? {};
  for (const name of new Set([...Object.keys(requests), ...Object.keys(limits)])) {
    const value = requests[name] ?? limits[name];
    into.set(name, (into.get(name) ?? 0) + amountOf(String(value)));
  }
}

function amountOf(quantity: string): number {
  try {
    return quantityAmount(quantity);
  } catch {
    return Number.NaN;
  }
}

function formatAmount(amount: number): string {
  if (amount >= 2 ** 30 && amount % 2 ** 20 === 0) return `${+(amount / 2 ** 30).toFixed(2)}Gi`;
  if (amount >= 2 ** 20 && amount % 2 ** 10 === 0) return `${+(amount / 2 ** 20).toFixed(2)}Mi`;
  return String(+amount.toFixed(3));
}
