import { danube, danubeFleet, danubeHttp } from './danube';
import {
  graphileWorkerDefault,
  graphileWorkerHistory,
  graphileWorkerLocalQueue,
} from './graphile-worker';
import { pgBoss } from './pg-boss';
import type { BenchSystem, FleetSystem } from './system';

export const SYSTEMS = {
  danube: { ...danube, ...danubeFleet },
  'danube-http': danubeHttp,
  'graphile-worker-localqueue': graphileWorkerLocalQueue,
  'graphile-worker-history': graphileWorkerHistory,
  'graphile-worker-default': graphileWorkerDefault,
  'pg-boss': pgBoss,
} satisfies Record<string, Partial<BenchSystem & FleetSystem>>;

export type ScenarioName = keyof (BenchSystem & FleetSystem);

export type SystemName = keyof typeof SYSTEMS;
