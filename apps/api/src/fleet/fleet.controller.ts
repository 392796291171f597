import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetService } from '@danube/queue';

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(private readonly fleet: FleetService) {}

  @Get('topics')
  @ApiOperation({ summary: 'Every topic with its job counts by status' })
  async topics() {
    return { items: await this.fleet.topics() };
  }

  @Get('executors')
  @ApiOperation({ summary: 'Registered executors: topics, capacity, running jobs, liveness' })
  async listExecutors() {
    return { items: await this.fleet.executorList() };
  }
}
