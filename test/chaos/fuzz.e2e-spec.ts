import { runChaos } from './run-chaos';

/** (g) at CI size: 1,000 fast-check cases for every REST route and JobService method. */
it('(g) no generated request gets a server error, and the API stays up', async () => {
  const result = await runChaos('g');
  expect({
    serverErrors: result.http.serverErrors,
    crashed: result.executorCrashes,
    notes: result.pass ? [] : result.notes,
  }).toEqual({ serverErrors: 0, crashed: 0, notes: [] });
  // Every route of the OpenAPI document and every method got its 1,000 cases.
  const [, routes, methods] = result.notes
    .map((n) => /^(\d+) REST routes, (\d+) gRPC methods/.exec(n))
    .find(Boolean)!;
  expect(Number(routes)).toBeGreaterThan(20);
  expect(Number(methods)).toBe(4);
  expect(result.cases).toBe((Number(routes) + Number(methods)) * 1000);
}, 900_000);
