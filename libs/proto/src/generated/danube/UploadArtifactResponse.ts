// Original file: proto/danube.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadArtifactResponse {
  artifactId?: string;
  size?: number | string | Long;
  sha256?: string;
}

export interface UploadArtifactResponse__Output {
  artifactId: string;
  size: string;
  sha256: string;
}
