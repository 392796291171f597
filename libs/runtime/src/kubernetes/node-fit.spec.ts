import type { V1Node, V1Pod } from './kubernetes-types';
import { fitOnNodes, podRequests } from './node-fit';

function node(name: string, allocatable: Record<string, string>, labels = {}): V1Node {
  return { metadata: { name, labels }, status: { allocatable } };
}

const NODES = [
  node('small', { cpu: '2', memory: '4Gi', pods: '110' }, { pool: 'general' }),
  node('big', { cpu: '16', memory: '64Gi', pods: '110', 'nvidia.com/gpu': '1' }, { pool: 'gpu' }),
];

function pod(
  main: object,
  collector: object = { requests: { cpu: '50m', memory: '64Mi' } },
): V1Pod {
  return {
    spec: {
      initContainers: [{ name: 'output-collector', restartPolicy: 'Always', resources: collector }],
      containers: [{ name: 'main', resources: main }],
    },
  };
}

describe('whether a pod could ever run on the nodes there are', () => {
  it('sums the job container and the collector sidecar; a limit alone counts as the request', () => {
    const requests = podRequests(pod({ requests: { cpu: '1' }, limits: { memory: '1Gi' } }));
    expect(Object.fromEntries(requests)).toEqual({ cpu: 1.05, memory: 2 ** 30 + 64 * 2 ** 20 });
  });

  it('counts a plain init container by itself where it asks for more', () => {
    const withInit: V1Pod = {
      spec: {
        initContainers: [{ name: 'setup', resources: { requests: { cpu: '3' } } }],
        containers: [{ name: 'main', resources: { requests: { cpu: '1' } } }],
      },
    };
    expect(podRequests(withInit).get('cpu')).toBe(3);
  });

  it('fits when one node offers all of it, though not the first', () => {
    const requests = podRequests(pod({ requests: { cpu: '8', memory: '8Gi' } }));
    expect(fitOnNodes(requests, {}, NODES)).toEqual({ kind: 'fits' });
  });

  it('never fits when no node offers enough, naming the resource and the most on offer', () => {
    const requests = podRequests(pod({ requests: { cpu: '100' } }));
    const verdict = fitOnNodes(requests, {}, NODES);
    expect(verdict).toEqual({
      kind: 'never',
      why: 'no node offers what it asks for: cpu 100.05 (the most any node offers: 16)',
    });
  });

  it('never fits a GPU job on a cluster without GPUs, nor on nodes its selector excludes', () => {
    const gpu = podRequests(
      pod({ requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } }),
    );
    expect(fitOnNodes(gpu, {}, [NODES[0]!])).toMatchObject({
      kind: 'never',
      why: expect.stringContaining('nvidia.com/gpu 1 (the most any node offers: 0)'),
    });
    expect(fitOnNodes(gpu, {}, NODES)).toEqual({ kind: 'fits' });
    expect(fitOnNodes(gpu, { pool: 'general' }, NODES)).toMatchObject({ kind: 'never' });
    expect(fitOnNodes(gpu, { pool: 'nowhere' }, NODES)).toEqual({
      kind: 'never',
      why: 'no node has the labels of its nodeSelector (pool=nowhere)',
    });
  });
});
