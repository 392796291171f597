import { Caller, type Principal } from '@danube/auth';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { EventsService, type EventFilter } from '@danube/queue';
import type { Request, Response } from 'express';
import { FOLLOW_POLL_MS, openSse } from '../http/sse';

export class EventsQuery {
  @ApiPropertyOptional({
    description:
      "Events after this cursor (an event's cursor, or nextCursor; 0-0 for the beginning). Without it a page starts at the beginning and follow=true at the end",
  })
  @IsOptional()
  @IsString()
  after?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  topic?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'jobId must be a job id' })
  jobId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'workflowId must be a workflow id' })
  workflowId?: string;

  @ApiPropertyOptional({ default: 500, maximum: 5000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;

  @ApiPropertyOptional({ description: 'true: a Server-Sent Events stream that stays open' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'follow must be true or false' })
  follow?: 'true' | 'false';
}

export class EventResponse {
  @ApiProperty()
  seq!: string;
  @ApiProperty({ description: 'Where this event is in the stream: pass it back as after' })
  cursor!: string;
  @ApiProperty({ description: 'job_queued, job_started, job_succeeded, ..., workflow_*' })
  type!: string;
  @ApiProperty({ type: String, nullable: true })
  jobId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  workflowId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  topic!: string | null;
  @ApiProperty({ type: Number, nullable: true })
  attempt!: number | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  data!: Record<string, unknown> | null;
  @ApiProperty({ type: String, format: 'date-time' })
  at!: Date;
}

export class EventPageResponse {
  @ApiProperty({ type: [EventResponse] })
  items!: EventResponse[];
  @ApiProperty({ description: 'Read on from here' })
  nextCursor!: string;
}

/** Job and workflow transitions, in commit order: a page, or a live SSE stream. */
@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Events (job_queued, job_started, job_succeeded, ..., workflow_*) after a cursor; follow=true streams them as SSE, resumable with Last-Event-ID',
  })
  @ApiOkResponse({
    type: EventPageResponse,
    description: 'A page; with follow=true, an SSE stream of events (EventResponse), id = cursor',
  })
  async list(
    @Query() query: EventsQuery,
    @Caller() caller: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const filter: EventFilter = {
      tenant: caller.tenant,
      topic: query.topic,
      jobId: query.jobId,
      workflowId: query.workflowId,
    };
    const limit = query.limit ?? 500;
    const resumeFrom = req.header('last-event-id') ?? query.after;
    // Checked before any stream opens, so a bad cursor is a plain 400. A follower that names
    // no place starts at the end, as `tail -f` does; a page starts at the beginning.
    let page =
      query.follow === 'true' && resumeFrom === undefined
        ? { items: [], nextCursor: await this.events.end(filter) }
        : await this.events.read(resumeFrom, filter, limit);
    if (query.follow !== 'true') {
      res.json(page);
      return;
    }
    const stream = openSse(req, res);
    while (!stream.closed) {
      for (const event of page.items)
        stream.send({ id: event.cursor, type: event.type, data: event });
      if (page.items.length < limit) await stream.pause(FOLLOW_POLL_MS);
      if (stream.closed) break;
      try {
        page = await this.events.read(page.nextCursor, filter, limit);
      } catch {
        // The database is away: keep the stream, try again shortly from the same place.
        page = { items: [], nextCursor: page.nextCursor };
        await stream.pause(1000);
      }
    }
  }
}
