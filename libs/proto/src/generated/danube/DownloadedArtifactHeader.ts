// Original file: proto/danube.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadedArtifactHeader {
  artifactId?: string;
  jobId?: string;
  attempt?: number;
  path?: string;
  contentType?: string;
  /**
   * Exact byte count of the chunks that follow.
   */
  size?: number | string | Long;
  sha256?: string;
}

export interface DownloadedArtifactHeader__Output {
  artifactId: string;
  jobId: string;
  attempt: number;
  path: string;
  contentType: string;
  /**
   * Exact byte count of the chunks that follow.
   */
  size: string;
  sha256: string;
}
