import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import {
  InvalidArgumentError,
  TRIGGER_RULES,
  fromLinkedForm,
  type TriggerRule,
} from '@danube/core';
import type { NewNode, NewWorkflow } from '@danube/dag';
import { CreateJobDto, toNewJob } from '../jobs/job.dto';
import { PageQuery } from '../http/page.query';
import { IsStringRecord, ValidateNestedObjects } from '../http/validators';

export class WorkflowNodeDto extends CreateJobDto {
  @ApiProperty({ description: 'Unique within the workflow', example: 'analyse' })
  @IsString()
  @Length(1, 128)
  name!: string;

  @ApiPropertyOptional({ type: [String], description: 'Names of the nodes this one waits for' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  dependsOn?: string[];

  @ApiPropertyOptional({
    enum: TRIGGER_RULES,
    default: 'all_success',
    description: 'When the node may run, given how its parents ended',
  })
  @IsOptional()
  @IsIn(TRIGGER_RULES)
  trigger?: TriggerRule;

  @ApiPropertyOptional({ description: 'Linked form: the node that runs after this one' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  next_node?: string;
}

export class CreateWorkflowDto {
  @ApiProperty({ example: 'nightly-report' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringRecord(64)
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'Linked form: the first node of a chain whose nodes name their next_node',
  })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  start_node?: string;

  @ApiProperty({ type: [WorkflowNodeDto] })
  @IsArray()
  @ValidateNestedObjects(() => WorkflowNodeDto, { each: true })
  nodes!: WorkflowNodeDto[];
}

export class ListWorkflowsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['running', 'succeeded', 'failed', 'cancelled'] })
  @IsOptional()
  @IsIn(['running', 'succeeded', 'failed', 'cancelled'])
  status?: 'running' | 'succeeded' | 'failed' | 'cancelled';
}

export function toNewNode(dto: WorkflowNodeDto): NewNode & { next_node?: string } {
  return {
    ...toNewJob(dto),
    name: dto.name,
    dependsOn: dto.dependsOn,
    trigger: dto.trigger,
    next_node: dto.next_node,
  };
}

/**
 * The workflow a body describes, in the dependsOn form (a linked body, start_node and
 * next_node, is turned into it). Mixing the two forms is refused, naming the node.
 */
export function toNewWorkflow(dto: CreateWorkflowDto): Omit<NewWorkflow, 'tenant'> {
  const nodes = dto.nodes.map(toNewNode);
  const linked = dto.start_node !== undefined;
  for (const [i, node] of nodes.entries()) {
    if (linked && node.dependsOn !== undefined) {
      throw new InvalidArgumentError(
        `nodes[${i}] ("${node.name}") has dependsOn, but start_node makes this a linked workflow: use next_node`,
        { field: `nodes.${i}.dependsOn` },
      );
    }
    if (!linked && node.next_node !== undefined) {
      throw new InvalidArgumentError(
        `nodes[${i}] ("${node.name}") has next_node; a linked workflow also needs start_node`,
        { field: 'start_node' },
      );
    }
  }
  const graph = linked
    ? fromLinkedForm(dto.start_node!, nodes)
    : nodes.map(({ next_node: _next, ...node }) => node);
  return { name: dto.name, labels: dto.labels, nodes: graph };
}
