import { Inject, Injectable, Logger } from '@nestjs/common';
import { DATABASE_URL } from '@danube/db';
import { Listener } from './notifications';
import { StepsRepository } from './steps.repository';

/** NOTIFY channel: a step ended (payload: its job id); sent by a trigger (migration 0003). */
export const STEPS_CHANNEL = 'danube_steps';
/** How often waiting steps are looked up anyway, in case a NOTIFY was missed. */
const POLL_MS = 2000;

/**
 * Wakes RunStep calls when their step ends: one LISTEN connection for the whole process,
 * plus a slow poll of the steps being waited for, which covers NOTIFYs lost while the
 * connection was down.
 */
@Injectable()
export class StepWaiter {
  private readonly logger = new Logger(StepWaiter.name);
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly listener: Listener;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly steps: StepsRepository,
    @Inject(DATABASE_URL) databaseUrl: string,
  ) {
    this.listener = new Listener(databaseUrl, [STEPS_CHANNEL], {
      onNotification: (_channel, id) => this.wake([id]),
      onConnected: () => void this.poll(),
      onError: (error) => this.logger.warn(`step notifications interrupted: ${String(error)}`),
    });
  }

  async start(): Promise<void> {
    await this.listener.start();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener.stop();
    this.wake([...this.waiting.keys()]);
  }

  /**
   * Resolves when job `id` may have ended (a NOTIFY, a poll, or `signal` aborting): the
   * caller then reads the job and waits again if it has not. Register before reading,
   * so that an end between the read and the wait is not missed.
   */
  nextChange(id: string, signal?: AbortSignal): { changed: Promise<void>; cancel(): void } {
    let wake!: () => void;
    const changed = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiting.get(id) ?? new Set();
    set.add(wake);
    this.waiting.set(id, set);
    const onAbort = () => wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    const cancel = () => {
      signal?.removeEventListener('abort', onAbort);
      set.delete(wake);
      if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
    };
    void changed.then(cancel);
    return { changed, cancel };
  }

  private wake(ids: string[]): void {
    for (const id of ids) {
      const set = this.waiting.get(id);
      if (!set) continue;
      this.waiting.delete(id);
      for (const wake of set) wake();
    }
  }

  private async poll(): Promise<void> {
    if (this.waiting.size === 0) return;
    try {
      this.wake(await this.steps.ended([...this.waiting.keys()]));
    } catch (error) {
      this.logger.warn(`could not look up waiting steps: ${String(error)}`);
    }
  }
}
