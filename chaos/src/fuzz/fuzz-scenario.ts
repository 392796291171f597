import { randomUUID } from 'node:crypto';
import { JobTokens, Keyring } from '../../../libs/secrets/src';
import { Cluster } from '../cluster';
import { NOTHING_WRONG, type ScenarioResult } from '../checks';
import type { PostgresServer } from '../postgres-server';
import { fuzzGrpc, GRPC_METHODS, type GrpcTarget } from './grpc-fuzz';
import { casesFor, routesOf, sendCases, type FuzzTally } from './rest-fuzz';

/**
 * (g) Property-based fuzzing with fast-check: `casesPerRoute` generated requests for every
 * REST route of the API's OpenAPI document and every JobService method, against real
 * objects (a job, a workflow, a secret, a running attempt with its token). The property:
 * no answer is a server error (HTTP >= 500, gRPC INTERNAL/UNKNOWN/...), and the API still
 * answers afterwards. No executor runs, so no generated command is ever executed.
 */
export async function runFuzz(
  pg: PostgresServer,
  casesPerRoute: number,
  seed: number,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const started = Date.now();
  const cluster = await Cluster.start(pg, 'chaos_g', { executors: 0 });
  const notes: string[] = [];
  let total: FuzzTally = { cases: 0, serverErrors: 0, examples: [] };
  const add = (name: string, tally: FuzzTally) => {
    total = {
      cases: total.cases + tally.cases,
      serverErrors: total.serverErrors + tally.serverErrors,
      examples: [...total.examples, ...tally.examples].slice(0, 10),
    };
    if (tally.serverErrors > 0) notes.push(`${name}: ${tally.serverErrors} server errors`);
  };
  try {
    const target = await fixtures(cluster);
    const known = {
      id: [target.runningJobId, target.workflowId, '1'],
      name: [target.secretName, 'missing'],
    };
    const routes = await routesOf(cluster.url);
    log(
      `(g) fuzzing ${routes.length} REST routes and ${GRPC_METHODS.length} gRPC methods, ${casesPerRoute} cases each`,
    );
    for (const [i, route] of routes.entries()) {
      add(
        `${route.method} ${route.path}`,
        await sendCases(cluster.url, casesFor(route, known, casesPerRoute, seed + i)),
      );
    }
    for (const [i, method] of GRPC_METHODS.entries()) {
      add(`gRPC ${method}`, await fuzzGrpc(target, method, casesPerRoute, seed + 1000 + i));
    }
    const alive = await cluster.request('GET', '/healthz');
    if (alive?.status !== 200) {
      const tail = cluster.api.output().split('\n').slice(-30).join('\n');
      notes.push(`the API did not answer /healthz after the fuzzing; its last words:\n${tail}`);
    }
    notes.push(`${routes.length} REST routes, ${GRPC_METHODS.length} gRPC methods, seed ${seed}`);
    notes.push(...total.examples);
    const crashed = cluster.api.hasExited || alive?.status !== 200;
    const result: ScenarioResult = {
      scenario: 'g',
      title: `fuzzing every REST route and gRPC method (fast-check, ${casesPerRoute} cases each)`,
      ...NOTHING_WRONG,
      executorCrashes: crashed ? 1 : 0,
      http: { ...cluster.http, serverErrors: total.serverErrors },
      cases: total.cases,
      seconds: (Date.now() - started) / 1000,
      notes,
      pass: total.serverErrors === 0 && !crashed,
    };
    return result;
  } finally {
    await cluster.stop();
  }
}

/** Real objects for the fuzzer to aim at: a job running attempt 1 (with its token), a workflow, a secret. */
async function fixtures(cluster: Cluster): Promise<GrpcTarget & { workflowId: string }> {
  const secretName = 'fuzz-secret';
  await cluster.request('PUT', `/v1/secrets/${secretName}`, { value: 'fuzz-value' });
  const job = await cluster.request('POST', '/v1/jobs', {
    topic: 'fuzz',
    command: ['true'],
    secrets: [secretName],
  });
  const other = await cluster.request('POST', '/v1/jobs', { topic: 'fuzz', command: ['true'] });
  const workflow = await cluster.request('POST', '/v1/workflows', {
    name: 'fuzz',
    nodes: [{ name: 'a', topic: 'fuzz', command: ['true'] }],
  });
  const jobId = job?.status === 201 ? job.body.id : undefined;
  const otherId = other?.status === 201 ? other.body.id : undefined;
  const workflowId = workflow?.status === 201 ? workflow.body.id : undefined;
  if (!jobId || !otherId || !workflowId) {
    throw new Error('could not create the fuzzing fixtures');
  }
  // As if an executor had claimed and started it: the JobService serves running attempts.
  await cluster.pool.query(
    `UPDATE danube.jobs SET status = 'running', attempts = 1, lease_owner = 'fuzz',
       lease_token = $2, lease_expires_at = now() + interval '1 day', started_at = now()
     WHERE id = $1`,
    [jobId, randomUUID()],
  );
  const tokens = new JobTokens(Keyring.parse(cluster.api.executorEnv.DANUBE_SECRET_KEY!));
  return {
    address: cluster.api.grpcAddress,
    runningJobId: jobId,
    token: tokens.issue(jobId, 1),
    otherToken: tokens.issue(otherId, 1),
    secretName,
    workflowId,
  };
}
