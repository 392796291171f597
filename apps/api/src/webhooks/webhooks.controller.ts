import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditService, Caller, type Principal } from '@danube/auth';
import { WebhooksService } from '@danube/housekeeping';
import { PageQuery, page } from '../http/page.query';
import { CreateWebhookDto } from './webhook.dto';
import {
  CreatedWebhookResponse,
  WebhookDeliveryPage,
  WebhookDeliveryResponse,
  WebhookList,
  WebhookResponse,
} from './webhook-response.dto';

/** Webhooks: URLs that are POSTed this tenant's job, workflow and schedule events, signed. */
@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a webhook; the answer holds its signing secret, shown this once',
  })
  @ApiCreatedResponse({ type: CreatedWebhookResponse })
  async create(
    @Body() dto: CreateWebhookDto,
    @Caller() caller: Principal,
  ): Promise<CreatedWebhookResponse> {
    const { webhook, secret } = await this.webhooks.create(caller.tenant, dto);
    await this.audit.record(caller, 'webhook.create', `webhook/${webhook.id}`, {
      url: webhook.url,
      events: webhook.events,
    });
    return { ...WebhookResponse.of(webhook), secret };
  }

  @Get()
  @ApiOperation({ summary: "This tenant's webhooks (never their secrets)" })
  @ApiOkResponse({ type: WebhookList })
  async list(@Caller() caller: Principal): Promise<WebhookList> {
    return { items: (await this.webhooks.list(caller.tenant)).map(WebhookResponse.of) };
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookResponse })
  async get(@Param('id') id: string, @Caller() caller: Principal): Promise<WebhookResponse> {
    return WebhookResponse.of(await this.webhooks.get(caller.tenant, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its delivery log; nothing more is sent to it' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@Param('id') id: string, @Caller() caller: Principal): Promise<void> {
    await this.webhooks.delete(caller.tenant, id);
    await this.audit.record(caller, 'webhook.delete', `webhook/${id}`);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary:
      "The webhook's deliveries, newest first: status, tries, the last answer or error; pass nextCursor back as cursor",
  })
  @ApiOkResponse({ type: WebhookDeliveryPage })
  async deliveries(
    @Param('id') id: string,
    @Query() query: PageQuery,
    @Caller() caller: Principal,
  ): Promise<WebhookDeliveryPage> {
    const limit = query.limit ?? 50;
    const deliveries = await this.webhooks.deliveries(caller.tenant, id, {
      before: query.cursor,
      limit,
    });
    return {
      items: deliveries.map(WebhookDeliveryResponse.of),
      nextCursor: page(deliveries, limit).nextCursor,
    };
  }
}
