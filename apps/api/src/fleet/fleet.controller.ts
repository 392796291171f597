import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ExecutorsRepository, JobsService } from '@danube/queue';

/** How long a heartbeat may be missing before GET /v1/executors calls the executor lost. */
const LOST_AFTER_MS = 60_000;

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(
    private readonly jobs: JobsService,
    @Inject(ExecutorsRepository) private readonly executors: ExecutorsRepository,
  ) {}

  @Get('topics')
  @ApiOperation({ summary: 'Every topic with its job counts by status' })
  async topics() {
    return { items: await this.jobs.topics() };
  }

  @Get('executors')
  @ApiOperation({ summary: 'Registered executors: topics, capacity, running jobs, liveness' })
  async listExecutors() {
    return { items: await this.executors.list(LOST_AFTER_MS) };
  }
}
