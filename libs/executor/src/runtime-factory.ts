import { InlineRuntime, ProcessRuntime, type Runtime } from '@danube/runtime';
import type { ExecutorOptions } from './executor.config';

/** The runtime DANUBE_RUNTIME names. */
export function createRuntime(options: ExecutorOptions): Runtime {
  switch (options.runtime) {
    case 'process':
      return new ProcessRuntime({
        workRoot: options.workDir,
        killGraceMs: options.killGraceMs,
        keepWorkDirs: options.keepWorkDirs,
      });
    case 'inline':
      return new InlineRuntime();
  }
}
