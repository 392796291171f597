import { withTransaction } from '@danube/db';
import { JobsRepository, JobsService, Notifier } from '@danube/queue';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { WorkflowRelease } from './workflow-release';
import { WorkflowsRepository } from './workflows.repository';
import { WorkflowsService } from './workflows.service';

let db: TestDatabase;
let workflows: WorkflowsService;
const release = new WorkflowRelease();

beforeAll(async () => {
  // Enough connections for 50 transactions racing at once.
  db = await createTestDatabase({ poolSize: 60 });
  const notifier = new Notifier(db.pool);
  const jobs = new JobsService(
    db.pool,
    new JobsRepository(db.pool),
    notifier,
    { acceptGpuSlurm: false, maxBatchSize: 1000 },
    release,
  );
  workflows = new WorkflowsService(db.pool, new WorkflowsRepository(db.pool), jobs, notifier, {
    maxNodes: 10_000,
  });
});
afterAll(() => db.drop());

/** One parent ending, in its own transaction, as an executor would record it. */
function endParent(id: string, workflowId: string, status: 'succeeded' | 'failed') {
  return withTransaction(db.pool, async (client) => {
    await client.query(`UPDATE danube.jobs SET status = $2 WHERE id = $1`, [id, status]);
    return release.afterTerminal(client, [{ id, status, workflowId, parentJobId: null }]);
  });
}

it('50 parents ending in 50 concurrent transactions release their child exactly once (30 rounds)', async () => {
  for (let round = 0; round < 30; round++) {
    const parents = Array.from({ length: 50 }, (_, i) => ({
      name: `p${i}`,
      topic: `race${round}`,
      command: 'true',
    }));
    const { workflow, nodes } = await workflows.submit({
      name: `race-${round}`,
      nodes: [
        ...parents,
        {
          name: 'child',
          topic: `race${round}`,
          command: 'true',
          dependsOn: parents.map((p) => p.name),
        },
      ],
    });
    const results = await Promise.all(
      nodes
        .filter((n) => n.name !== 'child')
        .map((n) => endParent(n.jobId, workflow.id, 'succeeded')),
    );
    expect(results.filter((r) => r.queuedTopics.length > 0)).toHaveLength(1);
    const { nodes: after } = await workflows.get('default', workflow.id);
    const child = after.find((n) => n.name === 'child')!;
    expect(child.status).toBe('queued');
    const { rows } = await db.pool.query(
      'SELECT pending_parents, succeeded_parents FROM danube.jobs WHERE id = $1',
      [child.jobId],
    );
    expect(rows[0]).toEqual({ pending_parents: 0, succeeded_parents: 50 });
  }
});

it('a failure skips every descendant, transitively, with the failed ancestor named, and counts into the workflow', async () => {
  const { workflow, nodes } = await workflows.submit({
    name: 'chain',
    nodes: [
      { name: 'a', topic: 't', command: 'true' },
      { name: 'b', topic: 't', command: 'true', dependsOn: ['a'] },
      { name: 'c', topic: 't', command: 'true', dependsOn: ['b'] },
      { name: 'd', topic: 't', command: 'true', dependsOn: ['c'], trigger: 'all_done' },
    ],
  });
  await endParent(nodes[0]!.jobId, workflow.id, 'failed');
  const { workflow: after, nodes: ended } = await workflows.get('default', workflow.id);
  expect(ended.map((n) => [n.name, n.status, n.skipReason])).toEqual([
    ['a', 'failed', null],
    ['b', 'skipped', 'upstream node "a" failed'],
    ['c', 'skipped', 'upstream node "a" failed'],
    // all_done runs even after its parent was skipped
    ['d', 'queued', null],
  ]);
  expect(after).toMatchObject({ status: 'running', unfinishedNodes: 1 });
});
