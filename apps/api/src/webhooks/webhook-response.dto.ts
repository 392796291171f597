import { ApiProperty } from '@nestjs/swagger';
import { WEBHOOK_EVENT_KINDS, type Webhook, type WebhookDelivery } from '@danube/housekeeping';

/** What the API answers about webhooks and their deliveries. */

export class WebhookResponse {
  @ApiProperty({ example: 'wh_6f1c0e2a9b8d4c7e8f0a1b2c3d4e5f60' })
  id!: string;
  @ApiProperty()
  url!: string;
  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_KINDS })
  events!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'Only events of this topic' })
  topic!: string | null;
  @ApiProperty({ description: 'Tries per event before it is marked failed' })
  maxAttempts!: number;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  static of(webhook: Webhook): WebhookResponse {
    return { ...webhook };
  }
}

export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    description:
      'The signing secret (whsec_...): shown this once. Danube-Signature is an HMAC-SHA256 under it',
  })
  secret!: string;
}

export class WebhookList {
  @ApiProperty({ type: [WebhookResponse] })
  items!: WebhookResponse[];
}

export class WebhookDeliveryResponse {
  @ApiProperty({ description: 'Sent as Danube-Delivery-Id' })
  id!: string;
  @ApiProperty()
  webhookId!: string;
  @ApiProperty({ description: "The event's id: the payload's id" })
  eventId!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_KINDS })
  type!: string;
  @ApiProperty({
    description: 'The body sent: {id, type, createdAt, data}',
    type: 'object',
    additionalProperties: true,
  })
  payload!: Record<string, unknown>;
  @ApiProperty({
    enum: ['pending', 'delivered', 'failed'],
    description: 'pending: not sent yet, or to be tried again',
  })
  status!: string;
  @ApiProperty({ description: 'Tries so far' })
  attempts!: number;
  @ApiProperty()
  maxAttempts!: number;
  @ApiProperty({ type: Number, nullable: true, description: "The last try's HTTP status" })
  lastStatusCode!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "Why the last try failed: the receiver's status and the start of its answer, a network error, or timeout",
  })
  lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastAttemptAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  deliveredAt!: Date | null;

  static of(delivery: WebhookDelivery): WebhookDeliveryResponse {
    return { ...delivery };
  }
}

export class WebhookDeliveryPage {
  @ApiProperty({ type: [WebhookDeliveryResponse] })
  items!: WebhookDeliveryResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass back as cursor; null on the last page',
  })
  nextCursor!: string | null;
}
