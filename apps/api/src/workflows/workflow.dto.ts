import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { TRIGGER_RULES, type TriggerRule } from '@danube/core';
import type { NewNode } from '@danube/dag';
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
