import type { Outcome } from './outcome';

/**
 * What a finished process means for its attempt, wherever it ran (a local process, the main
 * container of a Kubernetes pod): the one place these rules are written.
 */

/** The largest result a job gives: its result.json, or ReportStatus's result_json. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** Shell exit codes for "could not run the command": not executable, not found. */
const COMMAND_NOT_RUN: Record<number, string> = { 126: 'not executable', 127: 'not found' };

export interface ProcessExit {
  /** null when a signal ended it. */
  code: number | null;
  signal?: string | null;
  /** Why the command could not be started at all, when the platform says so (a pod's StartError). */
  cannotRun?: string | null;
  /** Said after "check the job's command" where something else may be at fault too (an image). */
  alsoCheck?: string;
}

/**
 * Exit 0 succeeded; a command that could not be run (126, 127, or `cannotRun`) is
 * permanent, since the next attempt would fail the same way; any other non-zero exit or a
 * signal is transient. (The job's noRetryExitCodes make more codes permanent, in
 * categorise.)
 */
export function exitOutcome(exit: ProcessExit): Outcome {
  const { code, signal } = exit;
  if (code === 0) return { kind: 'succeeded', exitCode: 0 };
  if (exit.cannotRun || (code !== null && code in COMMAND_NOT_RUN)) {
    const why = exit.cannotRun ?? COMMAND_NOT_RUN[code!];
    return {
      kind: 'failed',
      category: 'permanent',
      exitCode: code,
      message: `the command could not be run (exit ${code}: ${why}); check the job's command${exit.alsoCheck ? ` and ${exit.alsoCheck}` : ''}`,
    };
  }
  if (code === null) {
    return {
      kind: 'failed',
      category: 'transient',
      exitCode: null,
      message: `killed by signal ${signal}`,
    };
  }
  return {
    kind: 'failed',
    category: 'transient',
    exitCode: code,
    message: `exited with code ${code}${signal ? ` (signal ${signal})` : ''}`,
  };
}
