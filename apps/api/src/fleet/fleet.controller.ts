import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetService } from '@danube/queue';
import { ExecutorList, TopicList } from './fleet-response.dto';

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(private readonly fleet: FleetService) {}

  @Get('topics')
  @ApiOperation({ summary: 'Every topic with its job counts by status' })
  @ApiOkResponse({ type: TopicList })
  async topics(): Promise<TopicList> {
    return { items: await this.fleet.topics() };
  }

  @Get('executors')
  @ApiOperation({ summary: 'Registered executors: topics, capacity, running jobs, liveness' })
  @ApiOkResponse({ type: ExecutorList })
  async listExecutors(): Promise<ExecutorList> {
    return { items: await this.fleet.executorList() };
  }
}
