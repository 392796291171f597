import { loadApiOptions } from './api.config';

const DATABASE_URL = 'postgres://danube@127.0.0.1:5432/danube';

describe('loadApiOptions', () => {
  it('applies migrations at start unless DANUBE_MIGRATE is false', () => {
    expect(loadApiOptions({ DATABASE_URL }).migrate).toBe(true);
    expect(loadApiOptions({ DATABASE_URL, DANUBE_MIGRATE: 'true' }).migrate).toBe(true);
    expect(loadApiOptions({ DATABASE_URL, DANUBE_MIGRATE: 'false' }).migrate).toBe(false);
  });

  it.each(['no', '0', 'FALSE'])('refuses DANUBE_MIGRATE=%j, naming it', (value) => {
    expect(() => loadApiOptions({ DATABASE_URL, DANUBE_MIGRATE: value })).toThrow(
      /DANUBE_MIGRATE must be true or false/,
    );
  });
});
