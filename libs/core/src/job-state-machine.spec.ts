import { InvalidTransitionError } from './errors';
import { JOB_STATUSES, type JobStatus } from './job-status';
import { assertTransition, canTransition, fromStatuses } from './job-state-machine';

/** The lifecycle, written out pair by pair: every pair not listed here must be refused. */
const ALLOWED: ReadonlyArray<[JobStatus, JobStatus]> = [
  ['blocked', 'queued'],
  ['blocked', 'cancelled'],
  ['blocked', 'skipped'],
  ['queued', 'claimed'],
  ['queued', 'cancelled'],
  ['queued', 'skipped'],
  ['claimed', 'running'],
  ['claimed', 'queued'],
  ['claimed', 'succeeded'],
  ['claimed', 'failed'],
  ['claimed', 'timed_out'],
  ['claimed', 'cancelled'],
  ['running', 'queued'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'timed_out'],
  ['running', 'cancelled'],
  ['failed', 'queued'],
  ['timed_out', 'queued'],
  ['cancelled', 'queued'],
  ['skipped', 'queued'],
  // A workflow's retry puts a node back to wait for its parents.
  ['failed', 'blocked'],
  ['timed_out', 'blocked'],
  ['cancelled', 'blocked'],
  ['skipped', 'blocked'],
];

const allowed = new Set(ALLOWED.map(([from, to]) => `${from}->${to}`));
const allPairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const));

describe('job state machine', () => {
  it.each(allPairs.filter(([f, t]) => allowed.has(`${f}->${t}`)))('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition('7', from, to)).not.toThrow();
  });

  it.each(allPairs.filter(([f, t]) => !allowed.has(`${f}->${t}`)))(
    'refuses %s -> %s',
    (from, to) => {
      expect(canTransition(from, to)).toBe(false);
      expect(() => assertTransition('7', from, to)).toThrow(InvalidTransitionError);
    },
  );

  it('names the job and both statuses when it refuses', () => {
    expect(() => assertTransition('42', 'succeeded', 'cancelled')).toThrow(
      'job 42 is succeeded and cannot become cancelled',
    );
  });

  it('lists the statuses each status can be entered from (the SQL guards)', () => {
    expect(fromStatuses('running')).toEqual(['claimed']);
    expect(fromStatuses('claimed')).toEqual(['queued']);
    expect(fromStatuses('queued').sort()).toEqual(
      ['blocked', 'cancelled', 'claimed', 'failed', 'running', 'skipped', 'timed_out'].sort(),
    );
    expect(fromStatuses('succeeded').sort()).toEqual(['claimed', 'running']);
  });

  it('never leaves succeeded', () => {
    for (const to of JOB_STATUSES) expect(canTransition('succeeded', to)).toBe(false);
  });
});
