import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DanubeError, InvalidArgumentError, NotFoundError } from '@danube/core';
import { KEYRING, SECRET_KEY_HELP, sealSecret, type Keyring } from '@danube/secrets';
import { HousekeepingRunner } from '../housekeeping.runner';
import { checkEventKinds } from './webhook-events';
import { newSigningSecret } from './webhook-signature';
import { checkReachable, checkWebhookUrl } from './webhook-url';
import { MAX_WEBHOOKS_PER_TENANT } from './webhooks.sql';
import { WebhooksRepository, type Webhook, type WebhookDelivery } from './webhooks.repository';
import { SCAN_TASK, WEBHOOK_SCAN_KEY } from './webhook-scanner';

export const DEFAULT_MAX_ATTEMPTS = 8;
export const MAX_ATTEMPTS_LIMIT = 20;

export interface NewWebhook {
  url: string;
  events: string[];
  topic?: string | null;
  maxAttempts?: number;
}

/**
 * Webhooks as the API manages them: checked (URL, reachability, event kinds), stored with
 * a signing secret sealed under DANUBE_SECRET_KEY, listed, deleted, and their delivery log.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly runner: HousekeepingRunner,
    @Inject(KEYRING) private readonly keyring: Keyring | null,
  ) {}

  /** The webhook, and its signing secret: the only time the secret is shown. */
  async create(tenant: string, input: NewWebhook): Promise<{ webhook: Webhook; secret: string }> {
    const url = checkWebhookUrl(input.url);
    const events = checkEventKinds(input.events);
    const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
      throw new InvalidArgumentError(
        `maxAttempts must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}`,
        { field: 'maxAttempts' },
      );
    }
    const keyring = this.requireKeyring();
    await checkReachable(url);

    const id = `wh_${randomBytes(16).toString('hex')}`;
    const secret = newSigningSecret();
    const webhook = await this.webhooks.insert(
      tenant,
      { id, url: url.href, events, topic: input.topic ?? null, maxAttempts },
      sealSecret(keyring, webhookSecretBinding(tenant, id), secret),
    );
    if (!webhook) {
      throw new DanubeError(
        'failed_precondition',
        `this tenant already has ${MAX_WEBHOOKS_PER_TENANT} webhooks, the most it may have; delete one first`,
      );
    }
    await this.startScanning();
    return { webhook, secret };
  }

  list(tenant: string): Promise<Webhook[]> {
    return this.webhooks.list(tenant);
  }

  async get(tenant: string, id: string): Promise<Webhook> {
    const webhook = await this.webhooks.get(tenant, id);
    if (!webhook) throw new NotFoundError('webhook', id);
    return webhook;
  }

  async delete(tenant: string, id: string): Promise<Webhook> {
    const webhook = await this.webhooks.delete(tenant, id);
    if (!webhook) throw new NotFoundError('webhook', id);
    return webhook;
  }

  /** Newest first; `before` is the nextCursor of the previous page. */
  async deliveries(
    tenant: string,
    id: string,
    page: { before?: string; limit: number },
  ): Promise<WebhookDelivery[]> {
    await this.get(tenant, id);
    return this.webhooks.deliveries(tenant, id, page.before ?? null, page.limit);
  }

  /**
   * Runs the scanner now rather than at its next turn, so the loop is going as soon as
   * there is a webhook. Not worth failing the request over: the scanner's cron run starts
   * it within a minute anyway.
   */
  private async startScanning(): Promise<void> {
    try {
      await this.runner.add(SCAN_TASK, {}, { jobKey: WEBHOOK_SCAN_KEY, maxAttempts: 1 });
    } catch (error) {
      this.logger.warn(`could not start the webhook scanner now: ${(error as Error).message}`);
    }
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) {
      throw new DanubeError(
        'failed_precondition',
        `webhooks are not enabled on this server: their signing secrets are stored encrypted, so set DANUBE_SECRET_KEY. ${SECRET_KEY_HELP}`,
      );
    }
    return this.keyring;
  }
}

/**
 * What a webhook's sealed secret is bound to (its additional authenticated data): tenant
 * and id, with a prefix no secret name can have, so that the ciphertext fails its
 * integrity check if moved to another webhook or into danube.secrets.
 */
export function webhookSecretBinding(tenant: string, id: string): string {
  return `webhook\u0000${tenant}\u0000${id}`;
}
