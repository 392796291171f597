import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, Matches } from 'class-validator';
import { Caller, TENANT_NAME_PATTERN, type Principal } from '@danube/auth';
import { NotFoundError } from '@danube/core';
import { USAGE_GROUPS, UsageService, type UsageGroup } from '@danube/queue';

export class UsageQuery {
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: 30 days ago' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: now' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;

  @ApiPropertyOptional({ enum: USAGE_GROUPS, default: 'tenant' })
  @IsOptional()
  @IsIn(USAGE_GROUPS)
  groupBy?: UsageGroup;

  @ApiPropertyOptional({ description: "Admins: only this tenant's usage (others see their own)" })
  @IsOptional()
  @Matches(TENANT_NAME_PATTERN, { message: 'tenant must be a tenant name' })
  tenant?: string;
}

export class UsageRowResponse {
  @ApiProperty({ description: 'The tenant, topic or task class' })
  group!: string;
  @ApiProperty({ description: 'Jobs with an attempt that ended in the range' })
  jobs!: number;
  @ApiProperty()
  attempts!: number;
  @ApiProperty({ description: 'Sum of attempts’ run time (started to finished)' })
  runSeconds!: number;
  @ApiProperty({ description: 'Run seconds x GPUs asked for' })
  gpuSeconds!: number;
}

export class UsageResponse {
  @ApiProperty({ type: String, format: 'date-time' })
  from!: Date;
  @ApiProperty({ type: String, format: 'date-time' })
  to!: Date;
  @ApiProperty({ enum: USAGE_GROUPS })
  groupBy!: string;
  @ApiProperty({ type: [UsageRowResponse] })
  items!: UsageRowResponse[];
}

const DAY_MS = 24 * 3600 * 1000;

@ApiTags('usage')
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    summary:
      'Jobs, attempts, run seconds and GPU-seconds from the attempt records that ended in [from, to); admins see every tenant',
  })
  @ApiOkResponse({ type: UsageResponse })
  async report(@Query() query: UsageQuery, @Caller() caller: Principal): Promise<UsageResponse> {
    if (caller.role !== 'admin' && query.tenant !== undefined && query.tenant !== caller.tenant) {
      throw new NotFoundError('tenant', query.tenant);
    }
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 30 * DAY_MS);
    const groupBy = query.groupBy ?? 'tenant';
    const tenant = caller.role === 'admin' ? (query.tenant ?? null) : caller.tenant;
    return { from, to, groupBy, items: await this.usage.report({ from, to }, groupBy, tenant) };
  }
}
