// Original file: proto/danube.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactHeader {
  jobId?: string;
  /**
   * Relative path, such as reports/summary.json; no "..", no leading "/".
   */
  path?: string;
  contentType?: string;
  /**
   * Exact byte count of the chunks that follow.
   */
  size?: number | string | Long;
  /**
   * Optional: hex sha256 of the content, checked when given.
   */
  sha256?: string;
}

export interface ArtifactHeader__Output {
  jobId: string;
  /**
   * Relative path, such as reports/summary.json; no "..", no leading "/".
   */
  path: string;
  contentType: string;
  /**
   * Exact byte count of the chunks that follow.
   */
  size: string;
  /**
   * Optional: hex sha256 of the content, checked when given.
   */
  sha256: string;
}
