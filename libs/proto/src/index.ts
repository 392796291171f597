import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/danube';

export type { ProtoGrpcType } from './generated/danube';
export type { JobServiceClient } from './generated/danube/JobService';
export type * from './generated/danube/RunStepRequest';
export type * from './generated/danube/RunStepResponse';
export type * from './generated/danube/GetSecretRequest';
export type * from './generated/danube/GetSecretResponse';
export type * from './generated/danube/UploadArtifactRequest';
export type * from './generated/danube/ArtifactHeader';
export type * from './generated/danube/UploadArtifactResponse';
export type * from './generated/danube/ReportStatusRequest';
export type * from './generated/danube/ReportStatusResponse';
export type * from './generated/danube/DownloadArtifactRequest';
export type * from './generated/danube/DownloadArtifactResponse';
export type * from './generated/danube/DownloadedArtifactHeader';

/**
 * How messages are decoded, on both sides: camelCase fields, 64-bit integers and enums as
 * strings, unset fields at their defaults, and `payload` naming the oneof member present.
 * The generated types (npm run proto:gen) are made with the same choices.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const JOB_SERVICE_NAME = 'danube.JobService';

/** proto/danube.proto, found by walking up from here (works from the sources and from dist/). */
export function protoPath(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'proto', 'danube.proto');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find proto/danube.proto above ${from}`);
    dir = parent;
  }
}

/** The JobService's client constructor and service definition, loaded from the proto. */
export function loadJobServiceProto(): ProtoGrpcType {
  const definition = loadSync(protoPath(), PROTO_LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
