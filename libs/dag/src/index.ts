export * from './dag.module';
export * from './workflow-records';
export * from './workflow-release';
export * from './workflows.repository';
export * from './workflows.service';
