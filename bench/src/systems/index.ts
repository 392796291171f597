import { danube, danubeHttp } from './danube';
import { graphileWorkerDefault, graphileWorkerLocalQueue } from './graphile-worker';
import { pgBoss } from './pg-boss';
import type { BenchSystem } from './system';

export const SYSTEMS = {
  danube,
  'danube-http': danubeHttp,
  'graphile-worker-localqueue': graphileWorkerLocalQueue,
  'graphile-worker-default': graphileWorkerDefault,
  'pg-boss': pgBoss,
} satisfies Record<string, Partial<BenchSystem>>;

export type SystemName = keyof typeof SYSTEMS;
