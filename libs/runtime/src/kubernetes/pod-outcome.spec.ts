import type { V1ContainerStatus, V1Pod } from './kubernetes-types';
import { mainStartedAt, readJobConditions, readPod } from './pod-outcome';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function terminated(name: string, exitCode: number, extra: object = {}): V1ContainerStatus {
  return {
    name,
    image: 'busybox:1.36',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...extra } },
  };
}

function pod(status: V1Pod['status'], metadata: V1Pod['metadata'] = {}): V1Pod {
  return { metadata: { name: 'danube-1-1-abcde', ...metadata }, status };
}

const collectorDone = terminated('output-collector', 0);

describe('reading an attempt from its pod', () => {
  it('succeeds when the job container exits 0 and the collector delivered', () => {
    const reading = readPod(
      pod({
        phase: 'Succeeded',
        containerStatuses: [terminated('main', 0)],
        initContainerStatuses: [collectorDone],
      }),
      false,
      NOW,
    );
    expect(reading).toEqual({
      kind: 'ended',
      outcome: { kind: 'succeeded', exitCode: 0 },
      deleteJob: false,
    });
  });

  it('fails as transient with the exit code otherwise, and permanent when the command cannot run', () => {
    const failed = (main: V1ContainerStatus) =>
      readPod(
        pod({ phase: 'Failed', containerStatuses: [main], initContainerStatuses: [collectorDone] }),
        false,
        NOW,
      );
    expect(failed(terminated('main', 3))).toMatchObject({
      outcome: {
        kind: 'failed',
        category: 'transient',
        exitCode: 3,
        message: 'exited with code 3',
      },
    });
    expect(failed(terminated('main', 127))).toMatchObject({
      outcome: { category: 'permanent', exitCode: 127 },
    });
    expect(failed(terminated('main', 128, { reason: 'StartError' }))).toMatchObject({
      outcome: { category: 'permanent' },
    });
  });

  it('maps OOMKilled to oom', () => {
    const reading = readPod(
      pod({
        phase: 'Failed',
        containerStatuses: [terminated('main', 137, { reason: 'OOMKilled' })],
        initContainerStatuses: [collectorDone],
      }),
      false,
      NOW,
    );
    expect(reading).toMatchObject({
      kind: 'ended',
      outcome: { kind: 'failed', category: 'oom', exitCode: 137 },
    });
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])(
    'maps %s to permanent and deletes the Job (it would wait forever)',
    (reason) => {
      const reading = readPod(
        pod({
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'main',
              image: 'nope:1',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason, message: 'not found' } },
            },
          ],
        }),
        false,
        NOW,
      );
      expect(reading).toMatchObject({
        kind: 'ended',
        deleteJob: true,
        outcome: { kind: 'failed', category: 'permanent' },
      });
      expect((reading as { outcome: { message: string } }).outcome.message).toContain(
        `image nope:1 cannot be pulled (${reason}): not found`,
      );
    },
  );

  it('maps eviction, node loss and preemption to infra', () => {
    const evicted = readPod(
      pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      false,
      NOW,
    );
    expect(evicted).toMatchObject({ kind: 'ended', outcome: { category: 'infra' } });
    expect((evicted as { outcome: { message: string } }).outcome.message).toContain(
      '(Evicted): The node was low on resource: memory.',
    );
    for (const reason of ['PreemptionByScheduler', 'DeletionByTaintManager']) {
      const disrupted = readPod(
        pod({
          phase: 'Running',
          conditions: [{ type: 'DisruptionTarget', status: 'True', reason, message: 'gone' }],
        }),
        false,
        NOW,
      );
      expect(disrupted).toMatchObject({
        kind: 'ended',
        deleteJob: true,
        outcome: { category: 'infra' },
      });
    }
  });

  it('reads an unschedulable pod as waiting, with since when and the scheduler message', () => {
    const unschedulable = (since: number) =>
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
            lastTransitionTime: new Date(since),
          },
        ],
      });
    // However long it has waited: whether it ever could run is NodeFit's question.
    for (const since of [NOW - 1000, NOW - 3_600_000]) {
      expect(readPod(unschedulable(since), false, NOW)).toEqual({
        kind: 'waiting',
        unschedulable: {
          since,
          message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
        },
      });
    }
  });

  it("takes the job's start from its container's startedAt, within the second that field rounds to", () => {
    const startedAt = new Date(NOW - 30_000);
    const running = pod({
      phase: 'Running',
      containerStatuses: [{ name: 'main', state: { running: { startedAt } } } as any],
    });
    // Seen long after (adopted): the end of that second, never before the start.
    expect(mainStartedAt(running, NOW)!.getTime()).toBe(startedAt.getTime() + 999);
    // Seen at once: when it was seen.
    expect(mainStartedAt(running, startedAt.getTime() + 120)!.getTime()).toBe(
      startedAt.getTime() + 120,
    );
    expect(mainStartedAt(pod({ phase: 'Pending' }), NOW)).toBeNull();
  });

  it('reports lost outputs as infra when the job itself succeeded', () => {
    const reading = readPod(
      pod({
        phase: 'Succeeded',
        containerStatuses: [terminated('main', 0)],
        initContainerStatuses: [
          terminated('output-collector', 1, {
            message: 'output-collector: could not reach the JobService at x:9000',
          }),
        ],
      }),
      false,
      NOW,
    );
    expect(reading).toMatchObject({
      kind: 'ended',
      outcome: { kind: 'failed', category: 'infra' },
    });
    expect((reading as { outcome: { message: string } }).outcome.message).toBe(
      'outputs lost: the output-collector exited with code 1: output-collector: could not reach the JobService at x:9000',
    );
  });

  it('asks the Job when the pod is deleted or ends without the job container ending', () => {
    expect(readPod(pod({ phase: 'Running' }), true, NOW)).toEqual({ kind: 'ask-job' });
    expect(readPod(pod({ phase: 'Failed' }), false, NOW)).toEqual({ kind: 'ask-job' });
    expect(
      readPod(pod({ phase: 'Running' }, { deletionTimestamp: new Date(NOW) }), false, NOW),
    ).toEqual({
      kind: 'ask-job',
    });
    expect(readPod(pod({ phase: 'Running' }), false, NOW)).toEqual({
      kind: 'waiting',
      unschedulable: null,
    });
  });

  const condition = (type: string, reason: string) => ({
    type,
    status: 'True',
    reason,
    message: reason === 'DeadlineExceeded' ? 'Job was active longer than specified deadline' : '',
  });

  it.each([
    ['Kubernetes 1.31+, pods still terminating: FailureTarget alone', ['FailureTarget']],
    ['Kubernetes 1.31+, pods gone: FailureTarget then Failed', ['FailureTarget', 'Failed']],
    ['before 1.31: Failed alone', ['Failed']],
  ])('reads DeadlineExceeded on the Job as a timeout (%s)', (_name, types) => {
    const deadline = readJobConditions(
      { status: { conditions: types.map((t) => condition(t, 'DeadlineExceeded')) } },
      30,
    );
    expect(deadline).toMatchObject({
      kind: 'timed_out',
      message: expect.stringMatching(/timeoutSeconds \(30 s\)/),
    });
  });

  it('reads another Job failure as infra naming its reason, and a Job gone as infra', () => {
    expect(
      readJobConditions(
        { status: { conditions: [condition('FailureTarget', 'PodFailurePolicy')] } },
        30,
      ),
    ).toMatchObject({
      kind: 'failed',
      category: 'infra',
      message: expect.stringMatching(/PodFailurePolicy/),
    });
    expect(readJobConditions({ status: { conditions: [] } }, 30)).toMatchObject({
      kind: 'failed',
      category: 'infra',
      message: 'the pod was deleted before the job finished',
    });
    expect(readJobConditions(null, 30)).toMatchObject({ kind: 'failed', category: 'infra' });
  });
});
