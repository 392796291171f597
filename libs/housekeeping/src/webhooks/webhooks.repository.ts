import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { SealedSecret } from '@danube/secrets';
import type { WebhookEventKind } from './webhook-events';
import * as sql from './webhooks.sql';

/** A webhook as stored, without its secret. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventKind[];
  topic: string | null;
  maxAttempts: number;
  createdAt: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  /** The event's id (its seq in danube.events), as in the payload. */
  eventId: string;
  type: WebhookEventKind;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}

/** What one delivery job works on. */
export interface DeliveryTarget {
  id: string;
  status: DeliveryStatus;
  payload: unknown;
  webhookId: string;
  tenant: string;
  url: string;
  secret: SealedSecret;
}

export interface ScanStep {
  /** Events read (that some webhook wanted). */
  events: number;
  /** Deliveries stored, and their jobs added. */
  deliveries: number;
}

interface WebhookRow {
  id: string;
  url: string;
  events: WebhookEventKind[];
  topic: string | null;
  max_attempts: number;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_seq: string;
  type: WebhookEventKind;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  max_attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

/** danube.webhooks, their deliveries and the scan cursor: the statements of webhooks.sql.ts. */
@Injectable()
export class WebhooksRepository extends Repository {
  /** null when the tenant has as many webhooks as it may. */
  async insert(
    tenant: string,
    webhook: Omit<Webhook, 'createdAt'>,
    secret: SealedSecret,
  ): Promise<Webhook | null> {
    const { rows } = await this.db.query<WebhookRow>(sql.INSERT_WEBHOOK, [
      webhook.id,
      tenant,
      webhook.url,
      webhook.events,
      webhook.topic,
      webhook.maxAttempts,
      secret.keyId,
      secret.nonce,
      secret.ciphertext,
      secret.authTag,
    ]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async list(tenant: string): Promise<Webhook[]> {
    const { rows } = await this.db.query<WebhookRow>(sql.LIST_WEBHOOKS, [tenant]);
    return rows.map(toWebhook);
  }

  async get(tenant: string, id: string): Promise<Webhook | null> {
    const { rows } = await this.db.query<WebhookRow>(sql.GET_WEBHOOK, [tenant, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async delete(tenant: string, id: string): Promise<Webhook | null> {
    const { rows } = await this.db.query<WebhookRow>(sql.DELETE_WEBHOOK, [tenant, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async deliveries(
    tenant: string,
    webhookId: string,
    before: string | null,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<DeliveryRow>(sql.LIST_DELIVERIES, [
      tenant,
      webhookId,
      before,
      limit,
    ]);
    return rows.map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      eventId: r.event_seq,
      type: r.type,
      payload: r.payload,
      status: r.status,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      createdAt: r.created_at,
      lastAttemptAt: r.last_attempt_at,
      deliveredAt: r.delivered_at,
    }));
  }

  /** false when another scanner holds the lock (for the rest of this transaction). */
  async anyWebhook(): Promise<boolean> {
    const { rows } = await this.db.query<{ any: boolean }>(sql.ANY_WEBHOOK);
    return rows[0]!.any;
  }

  async tryScanLock(): Promise<boolean> {
    const { rows } = await this.db.query<{ locked: boolean }>(sql.TRY_SCAN_LOCK);
    return rows[0]!.locked;
  }

  async scan(
    pageSize: number,
    mapping: { types: string[]; kinds: string[] },
    deliverTask: string,
  ): Promise<ScanStep> {
    const { rows } = await this.db.query<ScanStep>(sql.SCAN_EVENTS, [
      pageSize,
      mapping.types,
      mapping.kinds,
      deliverTask,
    ]);
    return { events: rows[0]!.events, deliveries: rows[0]!.deliveries };
  }

  async target(deliveryId: string): Promise<DeliveryTarget | null> {
    const { rows } = await this.db.query<{
      id: string;
      status: DeliveryStatus;
      payload: unknown;
      webhook_id: string;
      tenant: string;
      url: string;
      secret_key_id: string;
      secret_nonce: Buffer;
      secret_ciphertext: Buffer;
      secret_auth_tag: Buffer;
    }>(sql.DELIVERY_TARGET, [deliveryId]);
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id,
      status: r.status,
      payload: r.payload,
      webhookId: r.webhook_id,
      tenant: r.tenant,
      url: r.url,
      secret: {
        keyId: r.secret_key_id,
        nonce: r.secret_nonce,
        ciphertext: r.secret_ciphertext,
        authTag: r.secret_auth_tag,
      },
    };
  }

  /** false when the delivery was no longer pending (or is gone with its webhook). */
  async recordAttempt(
    deliveryId: string,
    attempt: number,
    outcome: {
      status: DeliveryStatus;
      statusCode: number | null;
      error: string | null;
    },
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(sql.RECORD_ATTEMPT, [
      deliveryId,
      attempt,
      outcome.status,
      outcome.statusCode,
      outcome.error,
    ]);
    return rowCount !== 0;
  }
}

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    topic: r.topic,
    maxAttempts: r.max_attempts,
    createdAt: r.created_at,
  };
}
