import { InvalidArgumentError } from '../errors';
import { fromLinkedForm, validateGraph, type GraphNode } from './workflow-graph';

const node = (name: string, ...dependsOn: string[]): GraphNode => ({ name, dependsOn });

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('validateGraph', () => {
  it('orders a diamond parents first', () => {
    const order = validateGraph(
      [node('d', 'b', 'c'), node('b', 'a'), node('c', 'a'), node('a')],
      10,
    ).map((n) => n.name);
    expect(order[0]).toBe('a');
    expect(order[3]).toBe('d');
  });

  it('refuses an empty workflow', () => {
    expect(errorOf(() => validateGraph([], 10)).message).toBe(
      'nodes must not be empty: a workflow needs at least one node',
    );
  });

  it('refuses more nodes than the limit', () => {
    expect(errorOf(() => validateGraph([node('a'), node('b'), node('c')], 2)).message).toMatch(
      /nodes has 3 nodes; a workflow may have at most 2/,
    );
  });

  it('names duplicate nodes', () => {
    const error = errorOf(() => validateGraph([node('a'), node('b'), node('a'), node('b')], 10));
    expect(error.message).toBe('duplicate node names: "a", "b"; each node needs a name of its own');
    expect(error.details).toMatchObject({ nodes: ['a', 'b'] });
  });

  it('names an unknown dependency and the node that has it', () => {
    const error = errorOf(() => validateGraph([node('a'), node('b', 'ghost')], 10));
    expect(error.message).toBe('node "b" depends on "ghost", which is not one of the nodes');
    expect(error.details).toMatchObject({ nodes: ['b', 'ghost'] });
  });

  it('names a self-dependency', () => {
    expect(errorOf(() => validateGraph([node('a', 'a')], 10)).message).toBe(
      'node "a" depends on itself',
    );
  });

  it('lists one cycle in order', () => {
    const error = errorOf(() =>
      validateGraph(
        [node('start'), node('x', 'start', 'z'), node('y', 'x'), node('z', 'y'), node('end', 'z')],
        10,
      ),
    );
    expect(error.message).toMatch(/^the workflow has a cycle: /);
    const cycle = error.details!.nodes as string[];
    expect([...cycle].sort()).toEqual(['x', 'y', 'z']);
    // Each node in the message depends on the one before it.
    const graph = new Map([
      ['x', ['start', 'z']],
      ['y', ['x']],
      ['z', ['y']],
    ]);
    cycle.forEach((name, i) => expect(graph.get(cycle[(i + 1) % cycle.length]!)).toContain(name));
    expect(error.message).toBe(`the workflow has a cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  });
});

describe('fromLinkedForm', () => {
  it('turns a chain into dependsOn', () => {
    const nodes = fromLinkedForm('a', [
      { name: 'a', next_node: 'b' },
      { name: 'b', next_node: 'c' },
      { name: 'c', next_node: null },
    ]);
    expect(nodes).toEqual([
      { name: 'a', dependsOn: [] },
      { name: 'b', dependsOn: ['a'] },
      { name: 'c', dependsOn: ['b'] },
    ]);
  });

  it('refuses nodes the chain from start_node never reaches, naming them', () => {
    const error = errorOf(() =>
      fromLinkedForm('a', [
        { name: 'a', next_node: 'b' },
        { name: 'b' },
        { name: 'c' },
        { name: 'd', next_node: 'b' },
      ]),
    );
    expect(error.message).toBe(
      '"c", "d" cannot be reached from start_node "a" through next_node; link them into the chain or remove them',
    );
    expect(error.details).toEqual({ field: 'nodes', nodes: ['c', 'd'] });
  });

  it('refuses an unknown start_node or next_node', () => {
    expect(errorOf(() => fromLinkedForm('zz', [{ name: 'a' }])).message).toBe(
      'start_node "zz" is not one of the nodes',
    );
    expect(errorOf(() => fromLinkedForm('a', [{ name: 'a', next_node: 'q' }])).message).toBe(
      'node "a" has next_node "q", which is not one of the nodes',
    );
  });
});
