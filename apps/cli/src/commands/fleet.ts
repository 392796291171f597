import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import type { ExecutorView, TopicView } from '@danube/sdk/rest-client';
// The file, not @danube/core's index: the CLI starts without loading class-validator.
import { JOB_STATUSES } from '../../../../libs/core/src/job-status';
import { print, table, time } from '../output';
import { wholeNumber } from './jobs';

type Client = (command: Command) => { api: ApiClient; json: boolean };

interface TopicCounts {
  topic: string;
  counts: Record<string, number>;
}

const FINISHED = ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'];
const finished = (t: TopicCounts) => FINISHED.reduce((sum, s) => sum + (t.counts[s] ?? 0), 0);

/** One frame of `danube top`: per topic, depth, running and finish rate since the last frame. */
export function topFrame(
  topics: TopicCounts[],
  previous: Map<string, number>,
  seconds: number,
): string {
  const rows = topics.map((t) => {
    const done = finished(t);
    const before = previous.get(t.topic);
    const rate = before === undefined || seconds <= 0 ? '' : ((done - before) / seconds).toFixed(1);
    return [
      t.topic,
      t.counts.queued ?? 0,
      (t.counts.running ?? 0) + (t.counts.claimed ?? 0),
      t.counts.blocked ?? 0,
      t.counts.succeeded ?? 0,
      (t.counts.failed ?? 0) + (t.counts.timed_out ?? 0),
      rate,
    ];
  });
  return table(['topic', 'queued', 'running', 'blocked', 'succeeded', 'failed', 'done/s'], rows);
}

/** `danube topics`: every status's count per topic, and who serves it. */
export function topicsTable(topics: TopicView[]): string {
  return table(
    ['topic', ...JOB_STATUSES, 'served by'],
    topics.map((t) => [
      t.topic,
      ...JOB_STATUSES.map((s) => t.counts[s] ?? 0),
      t.executors.length > 0 ? t.executors.join(',') : 'nobody: its jobs wait',
    ]),
  );
}

export function registerFleetCommands(program: Command, client: Client): void {
  program
    .command('topics')
    .description('job counts by status per topic, and the live executors serving each')
    .action(async (_options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: TopicView[] }>('/v1/topics');
      print(json, page, () => topicsTable(page.items));
    });

  program
    .command('executors')
    .description('the executor fleet')
    .action(async (_options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: ExecutorView[] }>('/v1/executors');
      print(json, page, () =>
        table(
          ['id', 'state', 'topics', 'runtime', 'running', 'capacity', 'heartbeat'],
          page.items.map((e) => [
            e.id,
            e.state,
            (e.topics ?? []).join(',') || 'ALL',
            e.runtime,
            e.running,
            e.capacity,
            time(e.heartbeatAt),
          ]),
        ),
      );
    });

  program
    .command('top')
    .description('a refreshing table of topics: depth, running, rates (Ctrl-C to quit)')
    .option('-i, --interval <seconds>', 'seconds between refreshes', wholeNumber, 2)
    .option('--once', 'print one frame and exit')
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const previous = new Map<string, number>();
      let last = Date.now();
      for (;;) {
        const page = await api.get<{ items: TopicCounts[] }>('/v1/topics');
        const now = Date.now();
        const frame = topFrame(page.items, previous, (now - last) / 1000);
        if (json) process.stdout.write(`${JSON.stringify(page)}\n`);
        else {
          if (!options.once && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          process.stdout.write(
            `danube top  ${new Date(now).toISOString().slice(11, 19)}  ${api.baseUrl}\n${frame}\n`,
          );
        }
        if (options.once) return;
        for (const t of page.items) previous.set(t.topic, finished(t));
        last = now;
        await new Promise((r) => setTimeout(r, options.interval * 1000));
      }
    });
}
