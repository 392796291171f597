import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, Caller, type Principal } from '@danube/auth';
import { FleetService, JobWhyService, JobsService } from '@danube/queue';
import type { Request, Response } from 'express';
import { isTerminal, type Job } from '@danube/core';
import { FOLLOW_POLL_MS, openSse } from '../http/sse';
import { IdPipe } from '../http/id.pipe';
import { page } from '../http/page.query';
import { CreateJobBatchDto, CreateJobDto, ListJobsQuery, LogsQuery, toNewJob } from './job.dto';
import {
  ExecutionPage,
  ExecutionResponse,
  JobBatchResponse,
  JobPage,
  JobResponse,
  LogLineResponse,
  LogPage,
  SubmittedJobResponse,
  WhyResponse,
} from './job-response.dto';

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly why: JobWhyService,
    private readonly fleet: FleetService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Submit a job (201), or get the existing one back for a repeated idempotencyKey (200)',
  })
  @ApiCreatedResponse({ type: SubmittedJobResponse })
  @ApiOkResponse({
    type: SubmittedJobResponse,
    description: 'The job stored before with this idempotencyKey',
  })
  async create(
    @Body() dto: CreateJobDto,
    @Caller() caller: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmittedJobResponse> {
    const { job, created } = await this.jobs.enqueue({ ...toNewJob(dto), tenant: caller.tenant });
    if (created)
      await this.audit.record(caller, 'job.submit', `job/${job.id}`, { topic: job.topic });
    res.status(created ? 201 : 200);
    return { ...JobResponse.of(job), warnings: await this.warnings([job]) };
  }

  @Post('batch')
  @ApiOperation({ summary: 'Submit many jobs in one transaction: all are stored or none' })
  @ApiCreatedResponse({ type: JobBatchResponse })
  async createBatch(
    @Body() dto: CreateJobBatchDto,
    @Caller() caller: Principal,
  ): Promise<JobBatchResponse> {
    const results = await this.jobs.enqueueMany(
      dto.jobs.map((job) => ({ ...toNewJob(job), tenant: caller.tenant })),
    );
    const created = results.filter((r) => r.created).map((r) => r.job.id);
    if (created.length > 0) {
      await this.audit.record(caller, 'job.submit', `jobs/${created[0]}..${created.at(-1)}`, {
        count: created.length,
      });
    }
    return {
      jobs: results.map(({ job, created }) => ({ ...JobResponse.of(job), created })),
      warnings: await this.warnings(results.map((r) => r.job)),
    };
  }

  /** Warnings about jobs that will not run soon: nothing serves their topic. */
  private warnings(jobs: Job[]): Promise<string[]> {
    return this.fleet.submitWarnings(jobs.filter((j) => !isTerminal(j.status)).map((j) => j.topic));
  }

  @Get()
  @ApiOperation({
    summary: 'List jobs, newest first; pass nextCursor back as cursor for the next page',
  })
  @ApiOkResponse({ type: JobPage })
  async list(@Query() query: ListJobsQuery, @Caller() caller: Principal): Promise<JobPage> {
    const limit = query.limit ?? 50;
    const jobs = await this.jobs.list({
      tenant: caller.tenant,
      topic: query.topic,
      status: query.status,
      before: query.cursor,
      limit,
    });
    return { items: jobs.map(JobResponse.of), nextCursor: page(jobs, limit).nextCursor };
  }

  @Get(':id')
  @ApiOkResponse({ type: JobResponse })
  async get(@Param('id', IdPipe) id: string, @Caller() caller: Principal): Promise<JobResponse> {
    return JobResponse.of(await this.jobs.get(caller.tenant, id));
  }

  @Get(':id/why')
  @ApiOperation({
    summary:
      'Why a queued or blocked job is not running: parents, runAt or backoff, quotas, executors (each reason with a sentence)',
  })
  @ApiOkResponse({ type: WhyResponse })
  async explain(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<WhyResponse> {
    return this.why.explain(caller.tenant, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a job: at once if it has not started, else its executor stops it',
  })
  @ApiOkResponse({ type: JobResponse })
  async cancel(@Param('id', IdPipe) id: string, @Caller() caller: Principal): Promise<JobResponse> {
    const job = await this.jobs.cancel(caller.tenant, id);
    await this.audit.record(caller, 'job.cancel', `job/${id}`);
    return JobResponse.of(job);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue a failed, timed-out, cancelled or skipped job again' })
  @ApiOkResponse({ type: JobResponse })
  async retry(@Param('id', IdPipe) id: string, @Caller() caller: Principal): Promise<JobResponse> {
    const job = await this.jobs.retry(caller.tenant, id);
    await this.audit.record(caller, 'job.retry', `job/${id}`);
    return JobResponse.of(job);
  }

  @Get(':id/executions')
  @ApiOperation({
    summary: 'One record per attempt: executor, timings, outcome, error category, stderr tail',
  })
  @ApiOkResponse({ type: ExecutionPage })
  async executions(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<ExecutionPage> {
    return { items: (await this.jobs.executions(caller.tenant, id)).map(ExecutionResponse.of) };
  }

  @Get(':id/logs')
  @ApiOkResponse({
    type: LogPage,
    description:
      'A page of lines; with follow=true, an SSE stream of `line` events (LogLineResponse) and an `end` event',
  })
  @ApiOperation({
    summary:
      "The job's output lines, all attempts, oldest first; follow=true streams them (SSE) until the job ends",
  })
  async logs(
    @Param('id', IdPipe) id: string,
    @Query() query: LogsQuery,
    @Caller() caller: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const limit = query.limit ?? 1000;
    // A reconnecting follower resumes after the last line it saw.
    const resumeFrom = query.follow === 'true' ? req.header('last-event-id') : undefined;
    let after = resumeFrom ?? query.after ?? '0';
    let page = await this.jobs.logs(caller.tenant, id, after, limit);
    if (query.follow !== 'true') {
      res.json({
        lines: page.lines.map(LogLineResponse.of),
        nextAfter: page.lines.at(-1)?.id ?? after,
      });
      return;
    }
    const stream = openSse(req, res);
    for (;;) {
      for (const line of page.lines) {
        stream.send({ id: line.id, type: 'line', data: LogLineResponse.of(line) });
      }
      after = page.lines.at(-1)?.id ?? after;
      if (page.lines.length === 0 && isTerminal(page.status)) {
        stream.send({ type: 'end', data: { status: page.status } });
        stream.end();
        return;
      }
      if (page.lines.length === 0) await stream.pause(FOLLOW_POLL_MS);
      if (stream.closed) return;
      page = await this.jobs.logs(caller.tenant, id, after, limit);
    }
  }
}
