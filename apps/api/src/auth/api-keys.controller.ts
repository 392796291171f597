import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeysService, AuditService, Caller, RequiresRole, type Principal } from '@danube/auth';
import { ApiKeyList, ApiKeyResponse, CreatedApiKeyResponse } from './auth-response.dto';
import { CreateApiKeyDto, ListApiKeysQuery } from './auth.dto';

/** API keys: admins create them (shown once), list them and revoke them. */
@ApiTags('auth')
@RequiresRole('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a key; the answer holds the key itself, shown this once' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  async create(
    @Body() dto: CreateApiKeyDto,
    @Caller() caller: Principal,
  ): Promise<CreatedApiKeyResponse> {
    const { record, key } = await this.keys.create(
      {
        tenant: dto.tenant ?? caller.tenant,
        name: dto.name,
        role: dto.role ?? 'member',
        expiresAt: dto.expiresAt ?? null,
      },
      caller,
    );
    await this.audit.record(caller, 'api_key.create', `api_key/${record.id}`, {
      tenant: record.tenant,
      role: record.role,
      name: record.name,
    });
    return { ...ApiKeyResponse.of(record), key };
  }

  @Get()
  @ApiOperation({ summary: 'Keys (never the keys themselves), newest first' })
  @ApiOkResponse({ type: ApiKeyList })
  async list(@Query() query: ListApiKeysQuery): Promise<ApiKeyList> {
    return { items: (await this.keys.list(query.tenant ?? null)).map(ApiKeyResponse.of) };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key: it stops working on the next request' })
  @ApiOkResponse({ type: ApiKeyResponse })
  async revoke(@Param('id') id: string, @Caller() caller: Principal): Promise<ApiKeyResponse> {
    const record = await this.keys.revoke(id);
    await this.audit.record(caller, 'api_key.revoke', `api_key/${id}`, { tenant: record.tenant });
    return ApiKeyResponse.of(record);
  }
}
