export default async function globalTeardown(): Promise<void> {
  await globalThis.__DANUBE_TEST_PG_STOP__?.();
}
