import { Inject, Injectable } from '@nestjs/common';
import { KEYRING, openSecret, type Keyring } from '@danube/secrets';
import type { HousekeepingAttempt, HousekeepingTask } from '../housekeeping-task';
import { HousekeepingRunner } from '../housekeeping.runner';
import { signatureHeader } from './webhook-signature';
import { DELIVER_TASK } from './webhook-scanner';
import { webhookSecretBinding } from './webhooks.service';
import { WebhooksRepository, type DeliveryTarget } from './webhooks.repository';

/** How long a receiver has to answer one delivery. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** How much of a refusing receiver's answer is kept as the delivery's lastError. */
const ERROR_BODY_CHARS = 200;

/**
 * Sends one delivery: a signed POST of its stored payload. A 2xx answer delivers it; any
 * other answer, a network error or no answer within DELIVERY_TIMEOUT_MS is recorded and
 * thrown, and graphile-worker tries again with its backoff (about 3 s, 7 s, 20 s, 55 s,
 * ...). The last attempt records the delivery as failed and returns, so graphile-worker
 * drops the job instead of keeping it as a permanent failure.
 */
@Injectable()
export class WebhookDeliverer implements HousekeepingTask {
  readonly name = DELIVER_TASK;

  constructor(
    private readonly webhooks: WebhooksRepository,
    @Inject(KEYRING) private readonly keyring: Keyring | null,
    runner: HousekeepingRunner,
  ) {
    runner.register(this);
  }

  async run(payload: unknown, { attempt, maxAttempts }: HousekeepingAttempt): Promise<void> {
    const deliveryId = (payload as { deliveryId?: unknown } | null)?.deliveryId;
    if (typeof deliveryId !== 'string') return;
    const target = await this.webhooks.target(deliveryId);
    // Gone with its webhook, or already ended (a job run again after a crash).
    if (!target || target.status !== 'pending') return;

    const { statusCode, error } = await this.send(target);
    const delivered = error === null;
    const last = attempt >= maxAttempts;
    await this.webhooks.recordAttempt(deliveryId, attempt, {
      status: delivered ? 'delivered' : last ? 'failed' : 'pending',
      statusCode,
      error,
    });
    if (!delivered && !last) {
      throw new Error(`webhook ${target.webhookId} delivery ${deliveryId}: ${error}`);
    }
  }

  private async send(
    target: DeliveryTarget,
  ): Promise<{ statusCode: number | null; error: string | null }> {
    let secret: string;
    try {
      if (!this.keyring) throw new Error('DANUBE_SECRET_KEY is not set on this server');
      secret = openSecret(
        this.keyring,
        webhookSecretBinding(target.tenant, target.webhookId),
        target.secret,
      );
    } catch (error) {
      return { statusCode: null, error: `cannot sign: ${(error as Error).message}` };
    }
    const body = JSON.stringify(target.payload);
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Danube-Webhooks/1',
          'danube-webhook-id': target.webhookId,
          'danube-delivery-id': target.id,
          'danube-signature': signatureHeader(secret, body),
        },
        body,
        // A redirect is an answer like any other non-2xx: following it would send the
        // payload somewhere the tenant never named.
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      if (response.ok) {
        await response.body?.cancel();
        return { statusCode: response.status, error: null };
      }
      const excerpt = await readExcerpt(response);
      return {
        statusCode: response.status,
        error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`,
      };
    } catch (error) {
      return { statusCode: null, error: describeFetchError(error) };
    }
  }
}

/** The start of a response body, for the delivery log; the rest is not read. */
async function readExcerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < ERROR_BODY_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body cut short still tells something.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, ERROR_BODY_CHARS).replace(/\s+/g, ' ').trim();
}

function describeFetchError(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') {
    return `timeout: no response within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  }
  const cause = e.cause;
  if (cause) return `${cause.code ? `${cause.code}: ` : ''}${cause.message}`;
  return e.message;
}
