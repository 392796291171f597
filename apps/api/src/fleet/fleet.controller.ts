import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, type Principal } from '@danube/auth';
import { FleetService } from '@danube/queue';
import { ExecutorList, TopicList } from './fleet-response.dto';

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(private readonly fleet: FleetService) {}

  @Get('topics')
  @ApiOperation({ summary: "The topics your tenant has jobs on, with your jobs' counts by status" })
  @ApiOkResponse({ type: TopicList })
  async topics(@Caller() caller: Principal): Promise<TopicList> {
    return { items: await this.fleet.topics(caller.tenant) };
  }

  @Get('executors')
  @ApiOperation({ summary: 'Registered executors: topics, capacity, running jobs, liveness' })
  @ApiOkResponse({ type: ExecutorList })
  async listExecutors(): Promise<ExecutorList> {
    return { items: await this.fleet.executorList() };
  }
}
