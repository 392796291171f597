import { killRegistered, REGISTRY_ENV } from './processes';

export default async function globalTeardown(): Promise<void> {
  // Whatever a test started and did not end (it failed, timed out, or its worker died).
  const registry = process.env[REGISTRY_ENV];
  if (registry) {
    const killed = killRegistered(registry);
    if (killed > 0) process.stdout.write(`global teardown: ended ${killed} leftover processes\n`);
  }
  await globalThis.__DANUBE_TEST_PG_STOP__?.();
}
