import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, Caller, type Principal } from '@danube/auth';
import { SchedulesService, type Schedule } from '@danube/housekeeping';
import { FleetService } from '@danube/queue';
import { IdPipe } from '../http/id.pipe';
import { page } from '../http/page.query';
import {
  CreateScheduleDto,
  ListSchedulesQuery,
  ScheduleRunsQuery,
  UpdateScheduleDto,
  toTarget,
} from './schedule.dto';
import {
  ScheduleDetailResponse,
  SchedulePage,
  ScheduleResponse,
  ScheduleRunList,
  ScheduleRunResponse,
} from './schedule-response.dto';

/** Runs shown with a schedule. */
const LAST_RUNS = 10;

@ApiTags('schedules')
@Controller('v1/schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: SchedulesService,
    private readonly audit: AuditService,
    private readonly fleet: FleetService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Start a job or a workflow on a cron expression (5 or 6 fields) in a time zone',
  })
  @ApiCreatedResponse({ type: ScheduleDetailResponse })
  async create(
    @Body() dto: CreateScheduleDto,
    @Caller() caller: Principal,
  ): Promise<ScheduleDetailResponse> {
    const schedule = await this.schedules.create({
      tenant: caller.tenant,
      name: dto.name,
      cron: dto.cron,
      timeZone: dto.timeZone ?? 'UTC',
      target: toTarget(dto, true)!,
      overlap: dto.overlap ?? 'allow',
      catchUp: dto.catchUp ?? 'none',
      catchUpLimit: dto.catchUpLimit ?? 10,
      paused: dto.paused ?? false,
    });
    await this.audit.record(caller, 'schedule.create', `schedule/${schedule.id}`, {
      name: schedule.name,
      cron: schedule.cron,
    });
    return this.detail(caller.tenant, schedule);
  }

  @Get()
  @ApiOkResponse({ type: SchedulePage })
  async list(
    @Query() query: ListSchedulesQuery,
    @Caller() caller: Principal,
  ): Promise<SchedulePage> {
    const limit = query.limit ?? 50;
    const items = (await this.schedules.list(caller.tenant, query.cursor, limit)).map(
      ScheduleResponse.of,
    );
    return page(items, limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A schedule, when it fires next, and its last runs' })
  @ApiOkResponse({ type: ScheduleDetailResponse })
  async get(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<ScheduleDetailResponse> {
    return this.detail(caller.tenant, await this.schedules.get(caller.tenant, id));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Change a schedule: fields left out stay; paused true/false pauses and resumes (fires that fell while paused are not run)',
  })
  @ApiOkResponse({ type: ScheduleDetailResponse })
  async update(
    @Param('id', IdPipe) id: string,
    @Body() dto: UpdateScheduleDto,
    @Caller() caller: Principal,
  ): Promise<ScheduleDetailResponse> {
    const schedule = await this.schedules.update(caller.tenant, id, {
      cron: dto.cron,
      timeZone: dto.timeZone,
      target: toTarget(dto, false),
      overlap: dto.overlap,
      catchUp: dto.catchUp,
      catchUpLimit: dto.catchUpLimit,
      paused: dto.paused,
    });
    await this.audit.record(caller, 'schedule.update', `schedule/${id}`, {
      fields: Object.keys(dto),
    });
    return this.detail(caller.tenant, schedule);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a schedule; the jobs and workflows it started stay' })
  async delete(@Param('id', IdPipe) id: string, @Caller() caller: Principal): Promise<void> {
    await this.schedules.delete(caller.tenant, id);
    await this.audit.record(caller, 'schedule.delete', `schedule/${id}`);
  }

  @Get(':id/runs')
  @ApiOperation({ summary: 'The newest runs of a schedule, newest first (the last 100 are kept)' })
  @ApiOkResponse({ type: ScheduleRunList })
  async runs(
    @Param('id', IdPipe) id: string,
    @Query() query: ScheduleRunsQuery,
    @Caller() caller: Principal,
  ): Promise<ScheduleRunList> {
    const runs = await this.schedules.runs(caller.tenant, id, query.limit ?? 20);
    return { items: runs.map(ScheduleRunResponse.of) };
  }

  private async detail(tenant: string, schedule: Schedule): Promise<ScheduleDetailResponse> {
    const runs = await this.schedules.runs(tenant, schedule.id, LAST_RUNS);
    const topics =
      'job' in schedule.target
        ? [schedule.target.job.topic]
        : schedule.target.workflow.nodes.map((n) => n.topic);
    return {
      ...ScheduleResponse.of(schedule),
      lastRuns: runs.map(ScheduleRunResponse.of),
      warnings: schedule.paused ? [] : await this.fleet.submitWarnings(topics),
    };
  }
}
