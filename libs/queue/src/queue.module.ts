import {
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  Injectable,
  Logger,
} from '@nestjs/common';
import { PG_POOL } from '@danube/db';
import type { Pool } from 'pg';
import { ExecutorsRepository } from './executors.repository';
import { JobsRepository } from './jobs.repository';
import { StepWaiter } from './step-waiter';
import { StepsRepository } from './steps.repository';
import { JobsService, QUEUE_OPTIONS, TERMINAL_HOOK, type QueueOptions } from './jobs.service';
import type { TerminalHook } from './terminal-hook';
import { Notifier } from './notifications';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { FleetService } from './fleet.service';
import { QueueDepthMetric } from './queue-depth.metric';
import { StepsService } from './steps.service';
import { JobWhyService, WhyRepository } from './job-why.service';
import { UsageRepository, UsageService } from './usage.service';

@Injectable()
class NotifierDrain implements OnApplicationShutdown {
  constructor(private readonly notifier: Notifier) {}
  async onApplicationShutdown(): Promise<void> {
    await this.notifier.drain();
  }
}

@Module({})
export class QueueModule {
  static forRoot(options: QueueOptions, terminalHook: TerminalHook | null = null): DynamicModule {
    const logger = new Logger('Notifier');
    return {
      module: QueueModule,
      providers: [
        { provide: QUEUE_OPTIONS, useValue: options },
        { provide: TERMINAL_HOOK, useValue: terminalHook },
        {
          provide: Notifier,
          inject: [PG_POOL],
          useFactory: (pool: Pool) =>
            new Notifier(pool, (error) =>
              logger.warn(`NOTIFY failed; executors will poll: ${String(error)}`),
            ),
        },
        NotifierDrain,
        JobsRepository,
        StepsRepository,
        ExecutorsRepository,
        StepWaiter,
        JobsService,
        FleetService,
        StepsService,
        QueueDepthMetric,
        EventsRepository,
        EventsService,
        WhyRepository,
        JobWhyService,
        UsageRepository,
        UsageService,
      ],
      // Services only: whatever uses the queue goes through them, never to its SQL.
      exports: [
        FleetService,
        JobsService,
        StepsService,
        EventsService,
        JobWhyService,
        UsageService,
        Notifier,
      ],
    };
  }
}
