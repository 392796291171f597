// Original file: proto/danube.proto

export interface DownloadArtifactRequest {
  jobId?: string;
  /**
   * The job whose artifact to read; empty: the calling job.
   */
  fromJobId?: string;
  /**
   * The artifact's path, as uploaded; the copy of the latest attempt that uploaded it is sent.
   */
  path?: string;
}

export interface DownloadArtifactRequest__Output {
  jobId: string;
  /**
   * The job whose artifact to read; empty: the calling job.
   */
  fromJobId: string;
  /**
   * The artifact's path, as uploaded; the copy of the latest attempt that uploaded it is sent.
   */
  path: string;
}
