import { InvalidArgumentError } from '../errors';

export const TRIGGER_RULES = ['all_success', 'all_done', 'one_success'] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** A node as a workflow definition names it: the job fields stay opaque here. */
export interface GraphNode {
  name: string;
  dependsOn?: string[];
  trigger?: TriggerRule;
}

/** The linked form: a chain from start_node, each node naming its next_node. */
export interface LinkedNode {
  name: string;
  next_node?: string | null;
}

/**
 * Converts the linked form ({start_node, nodes: [{name, next_node}]}) into dependsOn:
 * a node is a child of every node whose next_node names it.
 */
export function fromLinkedForm<T extends LinkedNode>(
  startNode: string,
  nodes: T[],
): (Omit<T, 'next_node'> & { dependsOn: string[] })[] {
  const names = new Set(nodes.map((n) => n.name));
  if (!names.has(startNode)) {
    throw new InvalidArgumentError(`start_node "${startNode}" is not one of the nodes`, {
      field: 'start_node',
      nodes: [startNode],
    });
  }
  const parents = new Map<string, string[]>();
  for (const node of nodes) {
    if (node.next_node == null) continue;
    if (!names.has(node.next_node)) {
      throw new InvalidArgumentError(
        `node "${node.name}" has next_node "${node.next_node}", which is not one of the nodes`,
        {
          field: 'next_node',
          nodes: [node.name, node.next_node],
        },
      );
    }
    parents.set(node.next_node, [...(parents.get(node.next_node) ?? []), node.name]);
  }
  // The chain from start_node is the workflow: a node it never reaches would run at once
  // (it has no parent), which the linked form does not mean.
  const nextOf = new Map(nodes.map((n) => [n.name, n.next_node ?? null]));
  const reached = new Set<string>();
  for (let at: string | null = startNode; at !== null && !reached.has(at); at = nextOf.get(at)!) {
    reached.add(at);
  }
  const unreachable = nodes.map((n) => n.name).filter((name) => !reached.has(name));
  if (unreachable.length > 0) {
    throw new InvalidArgumentError(
      `${unreachable.map((n) => `"${n}"`).join(', ')} cannot be reached from start_node "${startNode}" through next_node; link ${unreachable.length === 1 ? 'it' : 'them'} into the chain or remove ${unreachable.length === 1 ? 'it' : 'them'}`,
      { field: 'nodes', nodes: unreachable },
    );
  }
  return nodes.map(({ next_node: _next, ...rest }) => ({
    ...rest,
    dependsOn: parents.get(rest.name) ?? [],
  }));
}

/**
 * Checks a workflow's graph before anything is stored, and returns its nodes in a
 * topological order (parents before children). Every error names the offending nodes.
 */
export function validateGraph<T extends GraphNode>(nodes: T[], maxNodes: number): T[] {
  if (nodes.length === 0)
    throw new InvalidArgumentError('nodes must not be empty: a workflow needs at least one node', {
      field: 'nodes',
      nodes: [],
    });
  if (nodes.length > maxNodes) {
    throw new InvalidArgumentError(
      `nodes has ${nodes.length} nodes; a workflow may have at most ${maxNodes} (DAG_MAX_NODES)`,
      { field: 'nodes', nodes: [] },
    );
  }
  const byName = new Map<string, T>();
  const duplicates = new Set<string>();
  for (const node of nodes) {
    if (byName.has(node.name)) duplicates.add(node.name);
    byName.set(node.name, node);
  }
  if (duplicates.size > 0) {
    const names = [...duplicates];
    throw new InvalidArgumentError(
      `duplicate node names: ${names.map((n) => `"${n}"`).join(', ')}; each node needs a name of its own`,
      { field: 'nodes.name', nodes: names },
    );
  }
  for (const node of nodes) {
    for (const parent of node.dependsOn ?? []) {
      if (parent === node.name) {
        throw new InvalidArgumentError(`node "${node.name}" depends on itself`, {
          field: 'dependsOn',
          nodes: [node.name],
        });
      }
      if (!byName.has(parent)) {
        throw new InvalidArgumentError(
          `node "${node.name}" depends on "${parent}", which is not one of the nodes`,
          { field: 'dependsOn', nodes: [node.name, parent] },
        );
      }
    }
    if (new Set(node.dependsOn ?? []).size !== (node.dependsOn ?? []).length) {
      throw new InvalidArgumentError(`node "${node.name}" lists a dependency twice`, {
        field: 'dependsOn',
        nodes: [node.name],
      });
    }
  }

  // Kahn's algorithm: what is left once every node without pending parents is taken lies on a cycle.
  const pending = new Map(nodes.map((n) => [n.name, (n.dependsOn ?? []).length]));
  const children = new Map<string, string[]>();
  for (const node of nodes)
    for (const parent of node.dependsOn ?? [])
      children.set(parent, [...(children.get(parent) ?? []), node.name]);
  const ready = nodes.filter((n) => pending.get(n.name) === 0).map((n) => n.name);
  const order: T[] = [];
  while (ready.length > 0) {
    const name = ready.pop()!;
    order.push(byName.get(name)!);
    for (const child of children.get(name) ?? []) {
      const left = pending.get(child)! - 1;
      pending.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(
      nodes.filter((n) => pending.get(n.name)! > 0),
      byName,
    );
    throw new InvalidArgumentError(
      `the workflow has a cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
      { field: 'dependsOn', nodes: cycle },
    );
  }
  return order;
}

/** One cycle among `stuck` nodes (each has a parent that is also stuck), in dependency order. */
function findCycle<T extends GraphNode>(stuck: T[], byName: Map<string, T>): string[] {
  const stuckNames = new Set(stuck.map((n) => n.name));
  // Walk parent links from any stuck node; within stuck nodes every node has a stuck parent,
  // so the walk must revisit a node, and the part from that node on is a cycle.
  const seen = new Map<string, number>();
  const path: string[] = [];
  let current = stuck[0]!.name;
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = (byName.get(current)!.dependsOn ?? []).find((p) => stuckNames.has(p))!;
  }
  // path follows child -> parent; reverse so the message reads parent -> child.
  return path.slice(seen.get(current)).reverse();
}
