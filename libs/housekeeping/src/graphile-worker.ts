import type { Pool } from 'pg';

/**
 * graphile-worker, loaded. It is an ES module and this project compiles to CommonJS. Node
 * (20.19 and later) can require() an ES module that has no top-level await, which
 * graphile-worker is. It is required through Node's own loader (process.getBuiltinModule),
 * so that a host with a module registry of its own, such as jest's, which cannot load ES
 * modules, gets the same module the server does.
 *
 * `Pool` is pg's, loaded the same way: graphile-worker tells errors apart by
 * `instanceof Error` and their codes, so its connections must come from a pg of the same
 * realm as itself (in the server, the one pg there is).
 */
export type GraphileWorker = typeof import('graphile-worker', {
  with: { 'resolution-mode': 'import' },
});

let loaded: { gw: GraphileWorker; Pool: typeof Pool } | undefined;

export function graphileWorker(): { gw: GraphileWorker; Pool: typeof Pool } {
  if (!loaded) {
    const { createRequire } = process.getBuiltinModule(
      'node:module',
    ) as typeof import('node:module');
    const nativeRequire = createRequire(__filename);
    loaded = {
      gw: nativeRequire('graphile-worker') as GraphileWorker,
      Pool: (nativeRequire('pg') as typeof import('pg')).Pool,
    };
  }
  return loaded;
}
