import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { InvalidArgumentError } from '@danube/core';
import {
  CATCH_UP_POLICIES,
  OVERLAP_POLICIES,
  type CatchUpPolicy,
  type OverlapPolicy,
  type ScheduleTarget,
} from '@danube/housekeeping';
import { CreateJobDto, toNewJob } from '../jobs/job.dto';
import { PageQuery } from '../http/page.query';
import { ValidateNestedObjects } from '../http/validators';
import { CreateWorkflowDto, toNewWorkflow } from '../workflows/workflow.dto';

const CATCH_UP_LIMIT_MAX = 1000;

/** What every schedule body may carry (POST needs name, cron and a target; PATCH none). */
class ScheduleFieldsDto {
  @ApiPropertyOptional({
    description:
      'When it fires: 5 fields (minute hour day-of-month month day-of-week) or 6 (second first)',
    example: '0 6 * * 1-5',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cron?: string;

  @ApiPropertyOptional({
    description: 'The IANA time zone whose clock the cron follows',
    default: 'UTC',
    example: 'Europe/Berlin',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  timeZone?: string;

  @ApiPropertyOptional({
    type: CreateJobDto,
    description: 'Start this job (a POST /v1/jobs body without runAt and idempotencyKey)',
  })
  @IsOptional()
  @ValidateNestedObjects(() => CreateJobDto)
  job?: CreateJobDto;

  @ApiPropertyOptional({
    type: CreateWorkflowDto,
    description: 'Or start this workflow (a POST /v1/workflows body)',
  })
  @IsOptional()
  @ValidateNestedObjects(() => CreateWorkflowDto)
  workflow?: CreateWorkflowDto;

  @ApiPropertyOptional({
    enum: OVERLAP_POLICIES,
    default: 'allow',
    description:
      "While the previous run is unfinished: start anyway (allow), don't start (skip), or cancel it and start (cancel_previous)",
  })
  @IsOptional()
  @IsIn(OVERLAP_POLICIES)
  overlap?: OverlapPolicy;

  @ApiPropertyOptional({
    enum: CATCH_UP_POLICIES,
    default: 'none',
    description:
      'Fires missed while nothing ran chores (more than 15 s late): run none of them, or each once (all, the newest catchUpLimit)',
  })
  @IsOptional()
  @IsIn(CATCH_UP_POLICIES)
  catchUp?: CatchUpPolicy;

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: CATCH_UP_LIMIT_MAX })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CATCH_UP_LIMIT_MAX)
  catchUpLimit?: number;

  @ApiPropertyOptional({ default: false, description: 'A paused schedule does not fire' })
  @IsOptional()
  @IsBoolean()
  paused?: boolean;
}

export class CreateScheduleDto extends ScheduleFieldsDto {
  @ApiProperty({ description: 'Unique in the tenant', example: 'nightly-report' })
  @IsString()
  @Length(1, 128)
  name!: string;

  @ApiProperty({ example: '0 6 * * 1-5' })
  @IsString()
  @Length(1, 200)
  declare cron: string;
}

export class UpdateScheduleDto extends ScheduleFieldsDto {}

export class ListSchedulesQuery extends PageQuery {}

export class ScheduleRunsQuery {
  @ApiPropertyOptional({ default: 20, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

/** The target a body names: exactly one of job and workflow (undefined when neither, on PATCH). */
export function toTarget(dto: ScheduleFieldsDto, required: boolean): ScheduleTarget | undefined {
  if (dto.job !== undefined && dto.workflow !== undefined) {
    throw new InvalidArgumentError('job, workflow: give one of them, not both', { field: 'job' });
  }
  if (dto.job !== undefined) {
    for (const field of ['runAt', 'idempotencyKey'] as const) {
      if (dto.job[field] !== undefined) {
        throw new InvalidArgumentError(
          `job.${field}: a scheduled job takes no ${field}; each fire sets its own`,
          { field: `job.${field}` },
        );
      }
    }
    const { runAt: _runAt, idempotencyKey: _key, tenant: _tenant, ...job } = toNewJob(dto.job);
    return { job };
  }
  if (dto.workflow !== undefined) return { workflow: toNewWorkflow(dto.workflow) };
  if (required) {
    throw new InvalidArgumentError('job, workflow: give the job or the workflow to start', {
      field: 'job',
    });
  }
  return undefined;
}
