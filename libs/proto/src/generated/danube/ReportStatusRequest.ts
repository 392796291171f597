// Original file: proto/danube.proto

export interface ReportStatusRequest {
  jobId?: string;
  /**
   * 0-100; absent leaves the progress as it is.
   */
  progress?: number;
  /**
   * Empty leaves the message as it is.
   */
  message?: string;
  /**
   * A JSON document stored as the job's result; empty leaves the result as it is.
   */
  resultJson?: string;
  _progress?: 'progress';
}

export interface ReportStatusRequest__Output {
  jobId: string;
  /**
   * 0-100; absent leaves the progress as it is.
   */
  progress?: number;
  /**
   * Empty leaves the message as it is.
   */
  message: string;
  /**
   * A JSON document stored as the job's result; empty leaves the result as it is.
   */
  resultJson: string;
  _progress?: 'progress';
}
