import { InvalidArgumentError } from '@danube/core';
import { EVENT_TYPE_KINDS, WEBHOOK_EVENT_KINDS, checkEventKinds } from './webhook-events';

describe('webhook event kinds', () => {
  it('keeps the kinds asked for, each once, in order', () => {
    expect(checkEventKinds(['job.failed', 'workflow.finished', 'job.failed'])).toEqual([
      'job.failed',
      'workflow.finished',
    ]);
  });

  it('names an unknown kind by its place in the list', () => {
    const refuse = () => checkEventKinds(['job.succeeded', 'job.succeded']);
    expect(refuse).toThrow(InvalidArgumentError);
    expect(refuse).toThrow(
      /^events\[1\] "job.succeded" is not an event kind; use one of job.succeeded/,
    );
    try {
      refuse();
    } catch (error) {
      expect((error as InvalidArgumentError).details).toEqual({ field: 'events[1]' });
    }
  });

  it('refuses an empty list', () => {
    expect(() => checkEventKinds([])).toThrow(/events must name at least one/);
  });

  it('maps every kind to the event types behind it; a workflow ends three ways', () => {
    const pairs = EVENT_TYPE_KINDS.types.map((type, i) => [type, EVENT_TYPE_KINDS.kinds[i]]);
    expect(new Set(EVENT_TYPE_KINDS.kinds)).toEqual(new Set(WEBHOOK_EVENT_KINDS));
    expect(pairs).toEqual(
      expect.arrayContaining([
        ['job_timed_out', 'job.timed_out'],
        ['workflow_succeeded', 'workflow.finished'],
        ['workflow_failed', 'workflow.finished'],
        ['workflow_cancelled', 'workflow.finished'],
        ['schedule_fired', 'schedule.fired'],
      ]),
    );
    expect(new Set(EVENT_TYPE_KINDS.types).size).toBe(EVENT_TYPE_KINDS.types.length);
  });
});
