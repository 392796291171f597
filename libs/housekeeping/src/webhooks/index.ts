import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookScanner } from './webhook-scanner';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

export * from './webhook-events';
export * from './webhook-signature';
export * from './webhook-url';
export * from './webhook-deliverer';
export * from './webhook-scanner';
export * from './webhooks.repository';
export * from './webhooks.service';

/** Everything webhooks add to HousekeepingModule: the API's service and the two chores. */
export const WEBHOOK_PROVIDERS = [
  WebhooksRepository,
  WebhooksService,
  WebhookScanner,
  WebhookDeliverer,
];
