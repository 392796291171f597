import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, Caller, RequiresRole, type Principal } from '@danube/auth';
import { RetentionService } from '@danube/housekeeping';
import { RetentionPolicyDto, toRetentionPolicy } from './retention.dto';
import { RetentionPolicyResponse, RetentionSweepRequested } from './retention-response.dto';

/**
 * How long the caller's tenant keeps finished jobs; admins change it and ask for a sweep.
 * The sweep itself runs in the background (every 5 minutes, on one replica).
 */
@ApiTags('retention')
@Controller('v1/retention')
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ summary: "This tenant's retention policy: its default and its topics' rules" })
  @ApiOkResponse({ type: RetentionPolicyResponse })
  async get(@Caller() caller: Principal): Promise<RetentionPolicyResponse> {
    return RetentionPolicyResponse.of(await this.retention.policy(caller.tenant));
  }

  @Put()
  @RequiresRole('admin')
  @ApiOperation({
    summary:
      "Replace this tenant's retention policy as a whole (a default left out: the built-in one)",
  })
  @ApiOkResponse({ type: RetentionPolicyResponse })
  async replace(
    @Body() dto: RetentionPolicyDto,
    @Caller() caller: Principal,
  ): Promise<RetentionPolicyResponse> {
    const policy = toRetentionPolicy(dto);
    const applied = await this.retention.replacePolicy(caller.tenant, policy);
    await this.audit.record(caller, 'retention.replace', `tenant/${caller.tenant}`, {
      policy,
    });
    return RetentionPolicyResponse.of(applied);
  }

  @Post('sweep')
  @HttpCode(202)
  @RequiresRole('admin')
  @ApiOperation({
    summary: 'Sweep now: delete what the policies no longer keep (every tenant), in the background',
  })
  @ApiAcceptedResponse({ type: RetentionSweepRequested })
  async sweep(@Caller() caller: Principal): Promise<RetentionSweepRequested> {
    await this.retention.requestSweep();
    await this.audit.record(caller, 'retention.sweep', null);
    return { requestedAt: new Date() };
  }
}
