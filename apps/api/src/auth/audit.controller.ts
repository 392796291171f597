import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, RequiresRole } from '@danube/auth';
import { page } from '../http/page.query';
import { AuditEntryResponse, AuditPage } from './auth-response.dto';
import { AuditQuery } from './auth.dto';

@ApiTags('auth')
@RequiresRole('admin')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary:
      'Who (key id) did what and when, newest first: submits, cancels, retries, secrets, keys, tenants',
  })
  @ApiOkResponse({ type: AuditPage })
  async list(@Query() query: AuditQuery): Promise<AuditPage> {
    const limit = query.limit ?? 50;
    const items = await this.audit.list({
      tenant: query.tenant ?? null,
      before: query.cursor ?? null,
      limit,
    });
    return page(items.map(AuditEntryResponse.of), limit);
  }
}
