import * as grpc from '@grpc/grpc-js';
import { loadJobServiceProto } from '@danube/proto';
import { JobServiceClient, JobServiceError } from './job-service-client';

/** A real gRPC server on loopback that answers GetSecret after refusing it `failures` times. */
async function flakyServer(failures: number, code = grpc.status.UNAVAILABLE) {
  const calls: { token: string | undefined; jobId: string }[] = [];
  const server = new grpc.Server();
  server.addService(loadJobServiceProto().danube.JobService.service, {
    getSecret(
      call: grpc.ServerUnaryCall<{ jobId: string; name: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      calls.push({
        token: call.metadata.get('authorization')[0] as string | undefined,
        jobId: call.request.jobId,
      });
      if (calls.length <= failures) callback({ code, details: `refused call ${calls.length}` });
      else callback(null, { value: `value of ${call.request.name}` });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, calls, stop: () => server.forceShutdown() };
}

const retry = { attempts: 4, initialDelayMs: 20, maxDelayMs: 100 };

it('retries UNAVAILABLE with backoff, then succeeds, sending the job id and token each time', async () => {
  const server = await flakyServer(2);
  const client = new JobServiceClient({
    address: server.address,
    jobId: '42',
    token: 'tok',
    retry,
  });
  try {
    expect(await client.getSecret('db')).toBe('value of db');
    expect(server.calls).toEqual(Array(3).fill({ token: 'Bearer tok', jobId: '42' }));
  } finally {
    client.close();
    server.stop();
  }
});

it('gives up after its attempts with a JobServiceError carrying the status', async () => {
  const server = await flakyServer(10);
  const client = new JobServiceClient({
    address: server.address,
    jobId: '42',
    token: 'tok',
    retry,
  });
  try {
    await expect(client.getSecret('db')).rejects.toEqual(
      new JobServiceError(grpc.status.UNAVAILABLE, 'refused call 4'),
    );
    expect(server.calls).toHaveLength(4);
  } finally {
    client.close();
    server.stop();
  }
});

it('does not retry other errors', async () => {
  const server = await flakyServer(1, grpc.status.PERMISSION_DENIED);
  const client = new JobServiceClient({
    address: server.address,
    jobId: '42',
    token: 'tok',
    retry,
  });
  try {
    await expect(client.getSecret('db')).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    expect(server.calls).toHaveLength(1);
  } finally {
    client.close();
    server.stop();
  }
});

it("ends calls still waiting at the client's deadline with DEADLINE_EXCEEDED", async () => {
  const server = new grpc.Server();
  server.addService(loadJobServiceProto().danube.JobService.service, {
    getSecret() {
      // never answers
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  const client = new JobServiceClient({
    address: `127.0.0.1:${port}`,
    jobId: '42',
    token: 'tok',
    retry,
    deadline: new Date(Date.now() + 300),
  });
  try {
    const started = Date.now();
    await expect(client.getSecret('db')).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    expect(Date.now() - started).toBeLessThan(1000);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

it('says what is missing when used outside a job', () => {
  expect(() => JobServiceClient.fromEnv({})).toThrow(/DANUBE_GRPC_ADDRESS is not set/);
});
