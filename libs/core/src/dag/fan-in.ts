import type { TriggerRule } from './workflow-graph';

/** A blocked node's view of its parents. */
export interface FanIn {
  trigger: TriggerRule;
  /** Parents not yet in a terminal status. */
  pending: number;
  succeeded: number;
  /** Parents that ended any other way: failed, timed out, cancelled, skipped. */
  failed: number;
}

export interface FanInStep extends FanIn {
  /** What the node becomes now: queued (ready to run), skipped (never can), or unchanged. */
  becomes: 'queued' | 'skipped' | null;
}

/**
 * Counts `succeeded` and `failed` more parents as finished and decides whether the node
 * can run now, can never run, or must keep waiting:
 * - all_success: runs when every parent succeeded; skipped as soon as one did not;
 * - all_done:    runs when every parent has finished, however;
 * - one_success: runs as soon as one parent succeeded; skipped when all finished and none did.
 */
export function countParents(state: FanIn, succeeded: number, failed: number): FanInStep {
  const next: FanIn = {
    trigger: state.trigger,
    pending: state.pending - succeeded - failed,
    succeeded: state.succeeded + succeeded,
    failed: state.failed + failed,
  };
  return { ...next, becomes: decide(next) };
}

function decide({ trigger, pending, succeeded, failed }: FanIn): 'queued' | 'skipped' | null {
  switch (trigger) {
    case 'all_success':
      if (failed > 0) return 'skipped';
      return pending === 0 ? 'queued' : null;
    case 'all_done':
      return pending === 0 ? 'queued' : null;
    case 'one_success':
      if (succeeded > 0) return 'queued';
      return pending === 0 ? 'skipped' : null;
  }
}
