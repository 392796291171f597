import { countParents, type FanIn } from './fan-in';

const waiting = (trigger: FanIn['trigger'], parents: number): FanIn => ({
  trigger,
  pending: parents,
  succeeded: 0,
  failed: 0,
});

describe('countParents', () => {
  it('all_success waits for every parent, and is skipped by the first failure', () => {
    expect(countParents(waiting('all_success', 2), 1, 0)).toMatchObject({
      pending: 1,
      succeeded: 1,
      becomes: null,
    });
    expect(
      countParents({ ...waiting('all_success', 2), pending: 1, succeeded: 1 }, 1, 0),
    ).toMatchObject({ pending: 0, becomes: 'queued' });
    expect(countParents(waiting('all_success', 3), 0, 1)).toMatchObject({
      pending: 2,
      failed: 1,
      becomes: 'skipped',
    });
  });

  it('all_done runs once every parent finished, whatever the outcomes', () => {
    expect(countParents(waiting('all_done', 2), 0, 1)).toMatchObject({ becomes: null });
    expect(countParents({ ...waiting('all_done', 2), pending: 1, failed: 1 }, 0, 1)).toMatchObject({
      pending: 0,
      becomes: 'queued',
    });
  });

  it('one_success runs on the first success, and is skipped when all finished without one', () => {
    expect(countParents(waiting('one_success', 3), 1, 0)).toMatchObject({
      pending: 2,
      becomes: 'queued',
    });
    expect(countParents(waiting('one_success', 2), 0, 1)).toMatchObject({ becomes: null });
    expect(
      countParents({ ...waiting('one_success', 2), pending: 1, failed: 1 }, 0, 1),
    ).toMatchObject({ pending: 0, becomes: 'skipped' });
  });

  it('counts several parents at once', () => {
    expect(countParents(waiting('all_success', 50), 50, 0)).toEqual({
      trigger: 'all_success',
      pending: 0,
      succeeded: 50,
      failed: 0,
      becomes: 'queued',
    });
  });
});
