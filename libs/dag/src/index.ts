export * from './dag.module';
export * from './workflow-release';
export * from './workflows.service';
export * as workflowsSql from './workflows.sql';
