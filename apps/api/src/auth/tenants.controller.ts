import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, Caller, RequiresRole, TenantsService, type Principal } from '@danube/auth';
import { NotFoundError } from '@danube/core';
import { ImageRuleList, ImageRuleResponse, TenantList, TenantResponse } from './auth-response.dto';
import { CreateImageRuleDto, CreateTenantDto, UpdateTenantDto, quotaChanges } from './auth.dto';

/**
 * Tenants, their quotas and image rules. Admins manage every tenant; other keys read their
 * own tenant only (another tenant is a 404).
 */
@ApiTags('auth')
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @RequiresRole('admin')
  @ApiCreatedResponse({ type: TenantResponse })
  async create(@Body() dto: CreateTenantDto, @Caller() caller: Principal): Promise<TenantResponse> {
    const tenant = await this.tenants.create(dto.name, quotaChanges(dto.quotas));
    await this.audit.record(caller, 'tenant.create', `tenant/${tenant.name}`, {
      quotas: tenant.quotas,
    });
    return TenantResponse.of(tenant);
  }

  @Get()
  @ApiOperation({ summary: "Every tenant (admins), or the caller's own" })
  @ApiOkResponse({ type: TenantList })
  async list(@Caller() caller: Principal): Promise<TenantList> {
    const items =
      caller.role === 'admin' ? await this.tenants.list() : [await this.tenants.get(caller.tenant)];
    return { items: items.map(TenantResponse.of) };
  }

  @Get(':name')
  @ApiOkResponse({ type: TenantResponse })
  async get(@Param('name') name: string, @Caller() caller: Principal): Promise<TenantResponse> {
    visible(caller, name);
    return TenantResponse.of(await this.tenants.get(name));
  }

  @Patch(':name')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Change quotas: a field left out stays, null removes the limit' })
  @ApiOkResponse({ type: TenantResponse })
  async update(
    @Param('name') name: string,
    @Body() dto: UpdateTenantDto,
    @Caller() caller: Principal,
  ): Promise<TenantResponse> {
    const changes = quotaChanges(dto.quotas);
    const tenant = await this.tenants.setQuotas(name, changes);
    await this.audit.record(caller, 'tenant.quotas', `tenant/${name}`, { changes });
    return TenantResponse.of(tenant);
  }

  @Post(':name/image-rules')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Allow images matching a pattern (then only matching images run)' })
  @ApiCreatedResponse({ type: ImageRuleResponse })
  async addImageRule(
    @Param('name') name: string,
    @Body() dto: CreateImageRuleDto,
    @Caller() caller: Principal,
  ): Promise<ImageRuleResponse> {
    const rule = await this.tenants.addImageRule({
      tenant: name,
      topic: dto.topic ?? null,
      pattern: dto.pattern,
      pullSecret: dto.pullSecret ?? null,
    });
    await this.audit.record(caller, 'image_rule.create', `image_rule/${rule.id}`, {
      tenant: name,
      pattern: rule.pattern,
      topic: rule.topic,
    });
    return ImageRuleResponse.of(rule);
  }

  @Get(':name/image-rules')
  @ApiOkResponse({ type: ImageRuleList })
  async imageRules(
    @Param('name') name: string,
    @Caller() caller: Principal,
  ): Promise<ImageRuleList> {
    visible(caller, name);
    return { items: (await this.tenants.imageRules(name)).map(ImageRuleResponse.of) };
  }

  @Delete(':name/image-rules/:id')
  @HttpCode(200)
  @RequiresRole('admin')
  @ApiOkResponse({ type: ImageRuleResponse })
  async removeImageRule(
    @Param('name') name: string,
    @Param('id') id: string,
    @Caller() caller: Principal,
  ): Promise<ImageRuleResponse> {
    const rule = await this.tenants.removeImageRule(name, id);
    await this.audit.record(caller, 'image_rule.delete', `image_rule/${id}`, { tenant: name });
    return ImageRuleResponse.of(rule);
  }
}

/** Another tenant, to anyone but an admin, does not exist. */
function visible(caller: Principal, tenant: string): void {
  if (caller.role !== 'admin' && caller.tenant !== tenant)
    throw new NotFoundError('tenant', tenant);
}
