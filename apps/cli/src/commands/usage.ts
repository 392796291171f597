import { Option, type Command } from 'commander';
import type { UsageView } from '@danube/sdk/rest-client';
import type { ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';
import { count, isoTime } from '../parse';
import type { AuditEntryView } from '@danube/sdk/rest-client';

type Client = (command: Command) => { api: ApiClient; json: boolean };

export function registerUsageCommands(program: Command, client: Client): void {
  program
    .command('usage')
    .description('jobs, attempts and run time per tenant, topic or task class')
    .option('--from <time>', "from this time, ISO 8601 (default: the API's)", isoTime)
    .option('--to <time>', 'until this time, ISO 8601 (default: now)', isoTime)
    .addOption(
      new Option('--group-by <what>', 'what to sum by')
        .choices(['tenant', 'topic', 'taskClass'])
        .default('tenant'),
    )
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const query = new URLSearchParams();
      if (options.from) query.set('from', options.from);
      if (options.to) query.set('to', options.to);
      query.set('groupBy', options.groupBy);
      const usage = await api.get<UsageView>(`/v1/usage?${query}`);
      const seconds = (s: number) => s.toFixed(1);
      print(
        json,
        usage,
        () =>
          `${dateTime(usage.from)} to ${dateTime(usage.to)}, by ${usage.groupBy}\n${table(
            ['group', 'jobs', 'attempts', 'run seconds', 'gpu seconds'],
            usage.items.map((u) => [
              u.group,
              u.jobs,
              u.attempts,
              seconds(u.runSeconds),
              seconds(u.gpuSeconds),
            ]),
          )}`,
      );
    });

  program
    .command('audit')
    .description('the audit log, newest first: who changed keys, tenants and jobs')
    .option('--tenant <tenant>', "only this tenant's entries")
    .option('-n, --limit <n>', "how many (default: the API's)", count)
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const query = new URLSearchParams();
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (options.tenant) query.set('tenant', options.tenant);
      const page = await api.get<{ items: AuditEntryView[]; nextCursor: string | null }>(
        `/v1/audit${query.toString() ? `?${query}` : ''}`,
      );
      print(json, page, () =>
        table(
          ['at', 'key', 'tenant', 'action', 'target'],
          page.items.map((e) => [dateTime(e.at), e.keyId, e.tenant, e.action, e.target]),
        ),
      );
      if (!json && page.nextCursor !== null) {
        process.stderr.write('there are older entries: raise --limit to see them\n');
      }
    });
}
