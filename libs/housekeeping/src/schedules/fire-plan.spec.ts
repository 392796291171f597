import { LATE_FIRE_GRACE_MS, planFires } from './fire-plan';

const now = new Date('2026-06-01T12:00:00.000Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);

describe('planFires', () => {
  it('runs every fire that is on time, whatever the catch-up policy', () => {
    const due = [secondsAgo(2), secondsAgo(1), secondsAgo(0)];
    expect(planFires(due, false, now, { policy: 'none', limit: 10 })).toEqual({
      run: due,
      missed: 0,
    });
  });

  it('counts late fires as missed with catch-up none', () => {
    const late = [secondsAgo(60), secondsAgo(30)];
    const onTime = [secondsAgo(LATE_FIRE_GRACE_MS / 1000)];
    expect(planFires([...late, ...onTime], false, now, { policy: 'none', limit: 10 })).toEqual({
      run: onTime,
      missed: 2,
    });
  });

  it('runs the newest late fires up to the limit with catch-up all', () => {
    const late = [secondsAgo(90), secondsAgo(60), secondsAgo(30)];
    const onTime = [secondsAgo(1)];
    expect(planFires([...late, ...onTime], false, now, { policy: 'all', limit: 2 })).toEqual({
      run: [secondsAgo(60), secondsAgo(30), secondsAgo(1)],
      missed: 1,
    });
  });

  it('counts the fires left out of the list as missed too', () => {
    expect(planFires([secondsAgo(30)], true, now, { policy: 'none', limit: 5 }).missed).toBe(2);
  });
});
