import * as grpc from '@grpc/grpc-js';
import { loadJobServiceProto, type JobServiceClient } from '../../libs/proto/src';

export interface CallResult<T = any> {
  ok: boolean;
  response?: T;
  code?: grpc.status;
  message?: string;
}

/** A raw JobService client for tests: any request, any token (or none). */
export function jobServiceClient(address: string) {
  const { danube } = loadJobServiceProto();
  const client: JobServiceClient = new danube.JobService(
    address,
    grpc.credentials.createInsecure(),
  );
  const metadataFor = (token?: string) => {
    const metadata = new grpc.Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  };
  return {
    unary(
      method: 'runStep' | 'getSecret' | 'reportStatus',
      request: object,
      token?: string,
    ): Promise<CallResult> {
      return new Promise((resolve) => {
        (client as any)[method](
          request,
          metadataFor(token),
          (error: grpc.ServiceError | null, response: unknown) =>
            resolve(
              error
                ? { ok: false, code: error.code, message: error.details }
                : { ok: true, response },
            ),
        );
      });
    },
    /** Sends `messages` as an UploadArtifact stream. */
    upload(messages: object[], token?: string): Promise<CallResult> {
      return new Promise((resolve) => {
        const call = client.uploadArtifact(metadataFor(token), (error, response) =>
          resolve(
            error
              ? { ok: false, code: error.code, message: error.details }
              : { ok: true, response },
          ),
        );
        for (const message of messages) call.write(message);
        call.end();
      });
    },
    /** Reads a DownloadArtifact stream whole: its header and the bytes of its chunks. */
    download(
      request: object,
      token?: string,
    ): Promise<CallResult & { header?: any; bytes?: Buffer }> {
      return new Promise((resolve) => {
        const call = client.downloadArtifact(request, metadataFor(token));
        let header: unknown;
        const chunks: Buffer[] = [];
        call.on('data', (message: { header?: unknown; chunk?: Buffer }) => {
          if (message.header) header = message.header;
          if (message.chunk) chunks.push(message.chunk);
        });
        call.on('error', (error: grpc.ServiceError) =>
          resolve({ ok: false, code: error.code, message: error.details }),
        );
        call.on('end', () => resolve({ ok: true, header, bytes: Buffer.concat(chunks) }));
      });
    },
    health(service = ''): Promise<string> {
      const { HealthClient } = healthProto();
      const health = new HealthClient(address, grpc.credentials.createInsecure());
      return new Promise((resolve, reject) =>
        health.check(
          { service },
          (error: grpc.ServiceError | null, response: { status: string }) => {
            health.close();
            return error ? reject(error) : resolve(response.status);
          },
        ),
      );
    },
    /** The services server reflection lists (grpc.reflection.v1). */
    reflectedServices(): Promise<string[]> {
      const { loadSync } = require('@grpc/proto-loader');
      const file =
        require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
      const definition = grpc.loadPackageDefinition(loadSync(file, { keepCase: true })) as any;
      const reflection = new definition.grpc.reflection.v1.ServerReflection(
        address,
        grpc.credentials.createInsecure(),
      );
      return new Promise((resolve, reject) => {
        const call = reflection.ServerReflectionInfo({ deadline: Date.now() + 5000 });
        call.on('data', (response: any) => {
          const services = response.list_services_response?.service;
          if (services) resolve(services.map((s: { name: string }) => s.name));
          else reject(new Error(`unexpected reflection answer: ${JSON.stringify(response)}`));
          call.end();
        });
        call.on('error', reject);
        call.on('end', () => reflection.close());
        call.write({ list_services: '' });
      });
    },
    close: () => client.close(),
  };
}

function healthProto(): { HealthClient: any } {
  const { loadSync } = require('@grpc/proto-loader');
  const { protoPath } = require('grpc-health-check');
  const definition = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as any;
  return { HealthClient: definition.grpc.health.v1.Health };
}
