import { ARTIFACT_STORE } from '@danube/artifacts';
import { HOUSEKEEPING_OPTIONS, type HousekeepingOptions } from '../housekeeping.runner';
import { RetentionSweepTask } from './retention-sweep.task';
import {
  RETENTION_ARTIFACT_STORE,
  RETENTION_OPTIONS,
  RetentionSweepService,
  type RetentionOptions,
} from './retention-sweep.service';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';

export * from './retention-policy';
export * from './retention-sweep.service';
export * from './retention-sweep.task';
export * from './retention.metrics';
export * from './retention.repository';
export * from './retention.service';

/** Everything retention adds to HousekeepingModule: the API's service, the sweep, its chore. */
export const RETENTION_PROVIDERS = [
  {
    provide: RETENTION_OPTIONS,
    inject: [HOUSEKEEPING_OPTIONS],
    useFactory: (options: HousekeepingOptions): RetentionOptions => ({
      defaultKeepDays: options.retentionDays,
    }),
  },
  // The store ArtifactsModule (in HousekeepingModule's imports) keeps uploads in.
  { provide: RETENTION_ARTIFACT_STORE, useExisting: ARTIFACT_STORE },
  RetentionRepository,
  RetentionService,
  RetentionSweepService,
  RetentionSweepTask,
];
