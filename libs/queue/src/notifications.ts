import { Client } from 'pg';
import type { Pool } from 'pg';

/** NOTIFY channel: a topic has new due jobs (payload: the topic). */
export const JOBS_CHANNEL = 'danube_jobs';
/** NOTIFY channel: a cancel was requested for a leased job (payload: the job id). */
export const CANCEL_CHANNEL = 'danube_cancel';

/**
 * The NOTIFYs of one flush, in one statement and one transaction. A NOTIFY takes a
 * transaction id, so its commit would wait for the WAL to reach the disk (about 1.7 ms here,
 * on the path from a job's insert to its claim) although it writes nothing to keep: it is
 * committed asynchronously (synchronous_commit off for this transaction only). Listeners
 * hear it at commit all the same; a crash can lose only the wake-up, and executors poll.
 */
const NOTIFY = `
  SELECT set_config('synchronous_commit', 'off', true), pg_notify(n.channel, n.payload)
  FROM unnest($1::text[], $2::text[]) AS n(channel, payload)`;

/**
 * Sends NOTIFYs outside the transactions that insert jobs, coalesced: while one NOTIFY
 * statement is in flight, the topics of later calls gather and go out together in the
 * next one. An idle queue gets its wake-up at once; a busy one sends far fewer NOTIFYs
 * than it inserts jobs, and inserts never queue behind the notification lock.
 */
export class Notifier {
  private readonly pending = new Map<string, Set<string>>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  notify(channel: string, payloads: Iterable<string>): void {
    let set = this.pending.get(channel);
    if (!set) this.pending.set(channel, (set = new Set()));
    for (const payload of payloads) set.add(payload);
    this.flushing ??= this.flush().finally(() => (this.flushing = null));
  }

  /** Resolves once every notification asked for so far has been sent. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const channels = [...this.pending.entries()].flatMap(([channel, set]) =>
        [...set].map((payload) => [channel, payload] as const),
      );
      this.pending.clear();
      try {
        await this.pool.query(NOTIFY, [channels.map(([c]) => c), channels.map(([, p]) => p)]);
      } catch (error) {
        // Executors poll as well, so a lost wake-up delays jobs by a poll interval at most.
        this.onError(error);
      }
    }
  }
}

export interface ListenerHandlers {
  onNotification(channel: string, payload: string): void;
  /** Called after (re)connecting: notifications may have been missed meanwhile. */
  onConnected(): void;
  onError(error: unknown): void;
}

/**
 * One dedicated connection that LISTENs on the given channels and reconnects after a
 * drop, with a growing delay, until stopped.
 */
export class Listener {
  private client: Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = 100;

  constructor(
    private readonly databaseUrl: string,
    private readonly channels: string[],
    private readonly handlers: ListenerHandlers,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: 'danube-listener',
    });
    client.on('notification', (msg) =>
      this.handlers.onNotification(msg.channel, msg.payload ?? ''),
    );
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client, null));
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      this.dropped(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryDelayMs = 100;
    this.handlers.onConnected();
  }

  private dropped(client: Client, error: unknown): void {
    if (this.stopped || (this.client !== null && this.client !== client)) return;
    if (error) this.handlers.onError(error);
    this.client = null;
    client.end().catch(() => undefined);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.connect();
    }, this.retryDelayMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5_000);
  }
}
