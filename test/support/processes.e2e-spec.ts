import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killRegistered, REGISTRY_ENV, spawnTracked } from './processes';
import { isAlive, waitFor } from './wait-for';

/** The process registry behind the global teardown: what a test leaves running is ended. */
const registry = join(mkdtempSync(join(tmpdir(), 'danube-registry-')), 'pids');
let saved: string | undefined;
beforeAll(() => {
  saved = process.env[REGISTRY_ENV];
  process.env[REGISTRY_ENV] = registry;
});
afterAll(() => {
  process.env[REGISTRY_ENV] = saved;
});

it('ends a left-behind process and what it started, and leaves alone a group whose leader exited', async () => {
  const left = spawnTracked('sh', ['-c', 'sleep 60 & echo $!; wait']);
  const grandchild = await waitFor('the background sleep', () => Number(left.output().trim()));
  const finished = spawnTracked('true', []);
  await finished.exited;
  expect(readFileSync(registry, 'utf8')).toContain(`done ${finished.pid}`);
  expect(isAlive(left.pid) && isAlive(grandchild)).toBe(true);

  expect(killRegistered(registry)).toBe(1);
  await left.exited;
  await waitFor('the background sleep to be ended', () => !isAlive(grandchild), 5000);
});
