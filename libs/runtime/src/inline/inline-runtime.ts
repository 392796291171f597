import type { Outcome } from '@danube/core';
import type { AttemptContext, RunHandle, Runtime } from '../runtime';

const SUCCEEDED: Outcome = { kind: 'succeeded', exitCode: 0 };

/**
 * Runs nothing and succeeds at once. For measuring the queue alone (benchmarks) and for
 * tests of the executor that are about claiming and recording, not about running.
 */
export class InlineRuntime implements Runtime {
  readonly name = 'inline';

  async start(_context: AttemptContext): Promise<RunHandle> {
    return INLINE_HANDLE;
  }

  async adopt(): Promise<RunHandle | null> {
    return INLINE_HANDLE;
  }

  async close(): Promise<void> {}
}

const INLINE_HANDLE: RunHandle = {
  ref: null,
  wait: () => Promise.resolve(SUCCEEDED),
  stop: () => Promise.resolve(),
  stderrTail: () => '',
};
