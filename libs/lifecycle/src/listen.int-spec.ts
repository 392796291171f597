import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createServer, type Server as NetServer } from 'node:net';
import { listenOn } from './listen';

/** Real servers on loopback: what grpc-js and Node say when a port is taken, made plain. */
let taken: NetServer;
let port: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => taken.close(resolve)));

it('a gRPC server on a taken port: one line naming the address and GRPC_PORT', async () => {
  const server = new Server();
  const bind = () =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  await expect(
    listenOn('the JobService (gRPC)', `127.0.0.1:${port}`, 'GRPC_PORT', bind),
  ).rejects.toThrow(
    `the JobService (gRPC) cannot listen on 127.0.0.1:${port}: the port is taken (another Danube, or another program, uses it); set GRPC_PORT to a free port`,
  );
  server.forceShutdown();
});

it('an HTTP server on a taken port: the same, naming PORT', async () => {
  const server = createServer();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  await expect(listenOn('the REST API', `127.0.0.1:${port}`, 'PORT', listen)).rejects.toThrow(
    /^the REST API cannot listen on 127\.0\.0\.1:\d+: the port is taken .*; set PORT to a free port$/,
  );
});

it('other failures pass through unchanged', async () => {
  await expect(
    listenOn('x', 'a', 'PORT', () => Promise.reject(new Error('EACCES: permission denied'))),
  ).rejects.toThrow('EACCES: permission denied');
});
