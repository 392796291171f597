import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { JOB_SERVICE_NAME, PROTO_LOADER_OPTIONS, protoPath } from '@danube/proto';

/** Largest message either way: upload chunks and RunStep's capped output fit well under it. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * The JobService's gRPC server, beside the REST API in the same process, with the
 * standard health service (grpc.health.v1) and server reflection (grpcurl, grpcui).
 */
export function jobServiceGrpcOptions(url: string): GrpcOptions {
  const health = new HealthImplementation({ '': 'SERVING', [JOB_SERVICE_NAME]: 'SERVING' });
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: 'danube',
      protoPath: protoPath(),
      loader: PROTO_LOADER_OPTIONS as GrpcOptions['options']['loader'],
      maxReceiveMessageLength: MAX_MESSAGE_BYTES,
      maxSendMessageLength: MAX_MESSAGE_BYTES,
      gracefulShutdown: true,
      onLoadPackageDefinition: (definition, server) => {
        new ReflectionService(definition).addToServer(server);
        health.addToServer(server);
      },
    },
  };
}
