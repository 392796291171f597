import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CATCH_UP_POLICIES,
  OVERLAP_POLICIES,
  type Schedule,
  type ScheduleRun,
} from '@danube/housekeeping';
import { CreateJobDto } from '../jobs/job.dto';
import { CreateWorkflowDto } from '../workflows/workflow.dto';

/** What the API answers about schedules (see job-response.dto.ts for why these are classes). */

export class ScheduleRunResponse {
  @ApiProperty({ type: String, format: 'date-time' })
  scheduledAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' })
  firedAt!: Date;
  @ApiProperty({ enum: ['started', 'skipped'] })
  outcome!: 'started' | 'skipped';
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why it was skipped, or what starting it did (cancel_previous)',
  })
  reason!: string | null;
  @ApiProperty({ type: String, nullable: true })
  jobId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  workflowId!: string | null;

  static of(run: ScheduleRun): ScheduleRunResponse {
    return { ...run };
  }
}

export class ScheduleResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty()
  cron!: string;
  @ApiProperty()
  timeZone!: string;
  @ApiPropertyOptional({ type: CreateJobDto, description: 'The job each fire starts' })
  job?: CreateJobDto;
  @ApiPropertyOptional({
    type: CreateWorkflowDto,
    description: 'The workflow each fire starts (a linked one is shown with dependsOn)',
  })
  workflow?: CreateWorkflowDto;
  @ApiProperty({ enum: OVERLAP_POLICIES })
  overlap!: string;
  @ApiProperty({ enum: CATCH_UP_POLICIES })
  catchUp!: string;
  @ApiProperty()
  catchUpLimit!: number;
  @ApiProperty()
  paused!: boolean;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When it fires next; null while paused',
  })
  nextRunAt!: Date | null;
  @ApiProperty({
    description: 'Fires not run because they came too late (catch-up none, or past its limit)',
  })
  missedRuns!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastFiredAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: Date;

  static of(s: Schedule): ScheduleResponse {
    return {
      id: s.id,
      name: s.name,
      cron: s.cron,
      timeZone: s.timeZone,
      ...(s.target as { job?: CreateJobDto; workflow?: CreateWorkflowDto }),
      overlap: s.overlap,
      catchUp: s.catchUp,
      catchUpLimit: s.catchUpLimit,
      paused: s.paused,
      nextRunAt: s.nextFireAt,
      missedRuns: s.missedFires,
      lastFiredAt: s.lastFiredAt,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
  }
}

export class ScheduleDetailResponse extends ScheduleResponse {
  @ApiProperty({ type: [ScheduleRunResponse], description: 'The newest runs, newest first' })
  lastRuns!: ScheduleRunResponse[];
  @ApiProperty({
    type: [String],
    description: 'Why its runs may wait: no live executor serves a topic it starts jobs on',
  })
  warnings!: string[];
}

export class SchedulePage {
  @ApiProperty({ type: [ScheduleResponse] })
  items!: ScheduleResponse[];
  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ScheduleRunList {
  @ApiProperty({ type: [ScheduleRunResponse] })
  items!: ScheduleRunResponse[];
}
