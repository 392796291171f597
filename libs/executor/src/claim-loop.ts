import { Logger } from '@nestjs/common';
import type { ClaimedJob } from '@danube/core';
import { Wakeup } from './wakeup';

/**
 * What a claim loop is doing, as graphile-worker's LocalQueue documents its modes:
 *
 *   claiming             free slots and a ready runtime: a claim is on its way
 *   full                 every slot runs an attempt or is promised to a claim in flight:
 *                        waits for an attempt to end (or the poll interval)
 *   waiting_for_runtime  the runtime cannot take attempts now (its cluster is out of reach):
 *                        claims nothing, looks again within a second
 *   backing_off          the last claim failed (Postgres out of reach): waits, longer each
 *                        time, up to the poll interval
 *   idle                 the last claim came back short of a batch: waits for a NOTIFY of
 *                        one of its topics, a retry coming due, or the poll interval
 *   stopped              stop() was called; the loop has ended
 *
 * A claim that comes back full goes on claiming at once, and pokes the other loop to claim
 * alongside it.
 */
export type ClaimLoopMode =
  'claiming' | 'full' | 'waiting_for_runtime' | 'backing_off' | 'idle' | 'stopped';

/** What the loop needs of its executor. */
export interface ClaimLoopHost {
  /** Slots neither running an attempt nor promised to a claim in flight. */
  freeSlots(): number;
  /** Why the runtime cannot take attempts now, or null. */
  runtimeProblem(): string | null;
  /** Claims up to `limit` jobs; the lease started no earlier than `sentAt` (performance.now()). */
  claim(limit: number): Promise<{ jobs: ClaimedJob[]; sentAt: number }>;
  /** Starts the claimed jobs' attempts. */
  run(jobs: ClaimedJob[], claimSentAt: number): void;
}

export interface ClaimLoopOptions {
  batchSize: number;
  pollIntervalMs: number;
  /**
   * Claims in flight at once. With two, one claim's commit overlaps the next claim's query
   * (Postgres flushes concurrent commits together), which matters on disks where a commit
   * costs milliseconds; more gained nothing when measured (a third loop drained slower).
   */
  loops: number;
}

/** The executor's claim loops: claim due jobs in batches while there is room to run them. */
export class ClaimLoop {
  private readonly logger = new Logger('ClaimLoop');
  private readonly wakeup = new Wakeup();
  private readonly modes: ClaimLoopMode[];
  /** Slots promised to claims in flight, so that the loops never claim past capacity. */
  private reserved = 0;
  private stopping = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly host: ClaimLoopHost,
    private readonly options: ClaimLoopOptions,
    /** Told of every change of mode (metrics, tests). */
    private readonly onMode: (loop: number, mode: ClaimLoopMode) => void = () => undefined,
  ) {
    this.modes = Array.from({ length: options.loops }, () => 'idle' as ClaimLoopMode);
  }

  /** Slots promised to claims in flight. */
  get promised(): number {
    return this.reserved;
  }

  /** Each loop's mode now. */
  get currentModes(): readonly ClaimLoopMode[] {
    return this.modes;
  }

  start(): void {
    this.running = Promise.all(this.modes.map((_, i) => this.loop(i))).then(() => undefined);
  }

  /** Something may be claimable now (a NOTIFY, a retry due): wakes one waiting loop. */
  poke(): void {
    this.wakeup.poke();
  }

  /**
   * An attempt ended. Only a loop that waits because it was full cares: an idle loop woken
   * for every ended attempt would send claims that come back empty.
   */
  slotFreed(): void {
    if (this.modes.includes('full')) this.wakeup.poke();
  }

  /** Ends every loop; resolves when the claims in flight have come back. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.pokeAll();
    await this.running;
  }

  private enter(loop: number, mode: ClaimLoopMode): void {
    const was = this.modes[loop];
    if (was === mode) return;
    this.modes[loop] = mode;
    if (mode === 'waiting_for_runtime') {
      this.logger.warn(`not claiming jobs: ${this.host.runtimeProblem()}`);
    } else if (was === 'waiting_for_runtime') {
      this.logger.log('the runtime is ready again; claiming jobs');
    }
    this.onMode(loop, mode);
  }

  private async loop(i: number): Promise<void> {
    const { batchSize, pollIntervalMs } = this.options;
    let failures = 0;
    while (!this.stopping) {
      const free = this.host.freeSlots() - this.reserved;
      if (free <= 0) {
        this.enter(i, 'full');
        await this.wakeup.wait(pollIntervalMs);
        continue;
      }
      if (this.host.runtimeProblem() !== null) {
        // Claiming now would only fail attempts: wait for the runtime.
        this.enter(i, 'waiting_for_runtime');
        await sleep(Math.min(pollIntervalMs, 1000));
        continue;
      }
      this.enter(i, 'claiming');
      const limit = Math.min(batchSize, free);
      this.reserved += limit;
      let claimed: { jobs: ClaimedJob[]; sentAt: number };
      try {
        claimed = await this.host.claim(limit);
        failures = 0;
      } catch (error) {
        failures++;
        const delay = Math.min(pollIntervalMs, 100 * 2 ** Math.min(failures, 10));
        this.enter(i, 'backing_off');
        this.logger.warn(`claim failed, retrying in ${delay} ms: ${String(error)}`);
        await sleep(delay);
        continue;
      } finally {
        this.reserved -= limit;
      }
      this.host.run(claimed.jobs, claimed.sentAt);
      if (claimed.jobs.length === limit) {
        // A full batch: more is likely waiting, so bring in another loop to claim alongside.
        this.wakeup.poke();
      } else {
        this.enter(i, 'idle');
        await this.wakeup.wait(pollIntervalMs);
      }
    }
    this.enter(i, 'stopped');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
