// Original file: proto/danube.proto

export interface RunStepResponse {
  stepJobId?: string;
  /**
   * The child's final status: succeeded, failed, timed_out or cancelled.
   */
  status?: string;
  /**
   * The last attempt's exit code; absent when the step never ran a process.
   */
  exitCode?: number;
  /**
   * The step's output, at most 1 MiB each; *_truncated says the rest was cut.
   */
  stdout?: string;
  stderr?: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  /**
   * Why the step did not succeed, when it did not.
   */
  errorMessage?: string;
  /**
   * The step's result (result.json or ReportStatus), as JSON; empty when it has none.
   */
  resultJson?: string;
  _exitCode?: 'exitCode';
}

export interface RunStepResponse__Output {
  stepJobId: string;
  /**
   * The child's final status: succeeded, failed, timed_out or cancelled.
   */
  status: string;
  /**
   * The last attempt's exit code; absent when the step never ran a process.
   */
  exitCode?: number;
  /**
   * The step's output, at most 1 MiB each; *_truncated says the rest was cut.
   */
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /**
   * Why the step did not succeed, when it did not.
   */
  errorMessage: string;
  /**
   * The step's result (result.json or ReportStatus), as JSON; empty when it has none.
   */
  resultJson: string;
  _exitCode?: 'exitCode';
}
