import { Module, type DynamicModule } from '@nestjs/common';
import { WorkflowsRepository } from './workflows.repository';
import { DAG_OPTIONS, WorkflowsService, type DagOptions } from './workflows.service';

/** Workflows; needs QueueModule (JobsService, Notifier) from the importing module. */
@Module({})
export class DagModule {
  static forRoot(options: DagOptions, queue: DynamicModule): DynamicModule {
    return {
      module: DagModule,
      imports: [queue],
      providers: [
        { provide: DAG_OPTIONS, useValue: options },
        WorkflowsRepository,
        WorkflowsService,
      ],
      exports: [WorkflowsService, WorkflowsRepository],
    };
  }
}
