import type { DanubeMetrics } from '@danube/observability';
import { InlineRuntime, KubernetesRuntime, ProcessRuntime, type Runtime } from '@danube/runtime';
import type { ExecutorOptions } from './executor.config';

/** The runtime DANUBE_RUNTIME names, connected and ready to start attempts. */
export async function createRuntime(
  options: ExecutorOptions,
  metrics: DanubeMetrics,
): Promise<Runtime> {
  switch (options.runtime) {
    case 'process':
      return ProcessRuntime.create({
        workRoot: options.workDir,
        killGraceMs: options.killGraceMs,
        keepWorkDirs: options.keepWorkDirs,
      });
    case 'inline':
      return new InlineRuntime();
    case 'kubernetes':
      return KubernetesRuntime.connect(options.kubernetes!, (verb, code, seconds) =>
        metrics.kubernetesRequests.labels(verb, String(code)).observe(seconds),
      );
  }
}
