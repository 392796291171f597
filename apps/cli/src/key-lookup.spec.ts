import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CliError } from './api-client';
import { findAdminKey, resolveApiKey } from './api-key';
import { mergeClassCaps } from './commands/tenants';
import { classCap, count, duration, isoTime, limit, noLimit } from './parse';

describe('the API key the CLI sends', () => {
  let root: string;
  let deep: string;

  const writeKey = (dir: string, text: string) => {
    mkdirSync(join(dir, '.danube'), { recursive: true });
    writeFileSync(join(dir, '.danube', 'admin-key'), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'danube-cli-key-'));
    deep = join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is --api-key before DANUBE_API_KEY before the admin-key file', () => {
    writeKey(root, 'dnb_file\n');
    const env = { DANUBE_API_KEY: 'dnb_env' };
    expect(resolveApiKey('dnb_flag', env, deep)).toBe('dnb_flag');
    expect(resolveApiKey(undefined, env, deep)).toBe('dnb_env');
    expect(resolveApiKey(undefined, {}, deep)).toBe('dnb_file');
  });

  it('treats an empty flag or variable as not given', () => {
    writeKey(root, 'dnb_file');
    expect(resolveApiKey('', { DANUBE_API_KEY: '' }, deep)).toBe('dnb_file');
  });

  it('reads the nearest .danube/admin-key walking up, without its trailing newline', () => {
    writeKey(root, 'dnb_root\n');
    writeKey(join(root, 'a'), 'dnb_a\r\n');
    expect(findAdminKey(deep)).toBe('dnb_a');
    expect(findAdminKey(join(root, 'a'))).toBe('dnb_a');
    expect(findAdminKey(root)).toBe('dnb_root');
  });

  it('skips an empty admin-key file and looks further up', () => {
    writeKey(root, 'dnb_root');
    writeKey(join(root, 'a', 'b'), '\n');
    expect(findAdminKey(deep)).toBe('dnb_root');
  });

  it('looks past a .danube that is a file', () => {
    writeKey(root, 'dnb_root');
    writeFileSync(join(deep, '.danube'), 'not a directory');
    expect(findAdminKey(deep)).toBe('dnb_root');
  });

  it('is undefined when there is no key anywhere', () => {
    // tmpdir() and its parents have no .danube/admin-key on any sane machine.
    expect(resolveApiKey(undefined, {}, deep)).toBeUndefined();
  });

  it('says so when an admin-key file is there but cannot be read', () => {
    writeKey(root, 'dnb_root');
    // A directory: unreadable as a file even for root, as a chmod 000 file is not.
    mkdirSync(join(deep, '.danube', 'admin-key'), { recursive: true });
    expect(() => findAdminKey(deep)).toThrow(CliError);
  });
});

describe('flag parsers', () => {
  it('reads durations in minutes, hours and days', () => {
    expect(duration('90m')).toBe(90 * 60_000);
    expect(duration('12h')).toBe(12 * 3_600_000);
    expect(duration('30d')).toBe(30 * 86_400_000);
  });

  it.each(['', '30', 'd', '0d', '-1d', '1.5h', '30s', '2w', '30 days', 'h12'])(
    'refuses the duration "%s"',
    (value) => {
      expect(() => duration(value)).toThrow(InvalidArgumentError);
    },
  );

  it('reads --class-cap CLASS=N into a map, later flags winning, none as null', () => {
    let caps = classCap('gpu=2');
    caps = classCap('cpu_long=10', caps);
    caps = classCap('gpu=3', caps);
    caps = classCap('gpu_slurm=none', caps);
    expect(caps).toEqual({ gpu: 3, cpu_long: 10, gpu_slurm: null });
    expect(classCap('gpu=0')).toEqual({ gpu: 0 });
  });

  it.each(['gpu', '=2', 'gpu=', 'gpu=two', 'gpu=1.5', 'gpu=-1', ' =2'])(
    'refuses the class cap "%s"',
    (value) => {
      expect(() => classCap(value)).toThrow(InvalidArgumentError);
    },
  );

  it('merges class caps into the current map, none removing a class', () => {
    expect(mergeClassCaps({ gpu: 2, cpu_long: 5 }, { gpu: null, gpu_slurm: 1 })).toEqual({
      cpu_long: 5,
      gpu_slurm: 1,
    });
  });

  it('reads quota limits as whole numbers, or none (null for the API)', () => {
    expect(limit('4')).toBe(4);
    expect(limit('none')).toBe('none');
    expect(limit('NONE')).toBe('none');
    expect(noLimit(limit('none'))).toBeNull();
    expect(noLimit(limit('0'))).toBe(0);
    for (const bad of ['', '1.5', '-1', 'ten', '1e3'])
      expect(() => limit(bad)).toThrow(InvalidArgumentError);
  });

  it('keeps none through commander, which would make a null into an empty string', () => {
    const program = new Command()
      .exitOverride()
      .option('--max-running <n>', '', limit)
      .option('--class-cap <class=n>', '', classCap);
    program.parse(['--max-running', 'none', '--class-cap', 'gpu=none'], { from: 'user' });
    expect(program.opts()).toEqual({ maxRunning: 'none', classCap: { gpu: null } });
  });

  it('reads counts as whole numbers only', () => {
    expect(count('20')).toBe(20);
    for (const bad of ['', ' ', '2.5', '-3', '0x10', '99999999999999999999'])
      expect(() => count(bad)).toThrow(InvalidArgumentError);
  });

  it('reads times as ISO 8601 UTC', () => {
    expect(isoTime('2026-01-31')).toBe('2026-01-31T00:00:00.000Z');
    expect(isoTime('2026-01-31T12:00:00+02:00')).toBe('2026-01-31T10:00:00.000Z');
    expect(() => isoTime('yesterday')).toThrow(InvalidArgumentError);
  });
});
