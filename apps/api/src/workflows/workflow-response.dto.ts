import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES, TRIGGER_RULES, type JobStatus } from '@danube/core';
import type { Workflow, WorkflowNode } from '@danube/dag';
import { JobErrorResponse } from '../jobs/job-response.dto';

/** What the API answers about workflows (see job-response.dto.ts for why these are classes). */

const WORKFLOW_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'];

export class WorkflowNodeResponse {
  @ApiProperty()
  name!: string;
  @ApiProperty()
  jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES })
  status!: JobStatus;
  @ApiProperty({ enum: TRIGGER_RULES })
  trigger!: string;
  @ApiProperty()
  topic!: string;
  @ApiProperty()
  attempts!: number;
  @ApiProperty({ type: String, nullable: true })
  skipReason!: string | null;
  @ApiProperty({ type: JobErrorResponse, nullable: true })
  error!: JobErrorResponse | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: Date | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'For a step: the job id of the node whose RunStep started it',
  })
  stepOf!: string | null;
}

export class WorkflowSummaryResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;
  @ApiProperty({ enum: WORKFLOW_STATUSES })
  status!: string;
  @ApiProperty()
  nodeCount!: number;
  @ApiProperty()
  unfinishedNodes!: number;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: Date | null;
}

export class WorkflowResponse extends WorkflowSummaryResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Nodes by status',
  })
  counts!: Record<string, number>;
  @ApiProperty({ type: [WorkflowNodeResponse] })
  nodes!: WorkflowNodeResponse[];

  static of({ workflow, nodes }: { workflow: Workflow; nodes: WorkflowNode[] }): WorkflowResponse {
    const counts: Record<string, number> = {};
    for (const node of nodes) counts[node.status] = (counts[node.status] ?? 0) + 1;
    return { ...workflow, counts, nodes };
  }
}

export class WorkflowPage {
  @ApiProperty({ type: [WorkflowSummaryResponse] })
  items!: WorkflowSummaryResponse[];
  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class WorkflowEdgeResponse {
  @ApiProperty({ description: 'Parent node name' })
  from!: string;
  @ApiProperty({ description: 'Child node name' })
  to!: string;
}

export class WorkflowGraphResponse {
  @ApiProperty({ type: WorkflowSummaryResponse })
  workflow!: WorkflowSummaryResponse;
  @ApiProperty({ type: [WorkflowNodeResponse] })
  nodes!: WorkflowNodeResponse[];
  @ApiProperty({ type: [WorkflowEdgeResponse] })
  edges!: WorkflowEdgeResponse[];
}
