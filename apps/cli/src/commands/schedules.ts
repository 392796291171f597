import type { Command } from 'commander';
import type { ScheduleDetailView, ScheduleRunView, ScheduleView } from '@danube/sdk/rest-client';
import { CliError, EXIT, type ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';
import { keyValue, readSpecFile, wholeNumber } from './jobs';

type Client = (command: Command) => { api: ApiClient; json: boolean };

/**
 * What a schedule starts, from --file and the flags: a file holding {"job": ...} or
 * {"workflow": ...} is taken as is; one with nodes is a workflow; anything else is a job
 * spec, whose fields the flags override.
 */
export function scheduleTarget(
  argv: string[],
  options: { file?: string; topic?: string; shell?: string; env?: Record<string, string> },
): Record<string, unknown> {
  const spec: Record<string, unknown> = options.file ? readSpecFile(options.file) : {};
  if ('job' in spec || 'workflow' in spec) return spec;
  if ('nodes' in spec) return { workflow: spec };
  if (argv.length > 0 && options.shell) {
    throw new CliError('give the command either after -- or with --shell, not both', EXIT.usage);
  }
  if (argv.length > 0) spec.command = argv;
  if (options.shell) spec.command = options.shell;
  if (spec.command === undefined) {
    throw new CliError(
      'no target: give a command after -- (danube schedules create NAME --cron "0 6 * * *" -- ./report.sh), --shell, or --file',
      EXIT.usage,
    );
  }
  spec.topic = options.topic ?? spec.topic ?? 'default';
  if (options.env) spec.env = { ...(spec.env as object), ...options.env };
  return { job: spec };
}

function describe(s: ScheduleView): string {
  return `schedule ${s.id} "${s.name}": ${s.cron} (${s.timeZone}), ${
    s.paused ? 'paused' : `next run ${dateTime(s.nextRunAt)}`
  }`;
}

function runsTable(runs: ScheduleRunView[]): string {
  return table(
    ['scheduled', 'outcome', 'job', 'workflow', 'reason'],
    runs.map((r) => [dateTime(r.scheduledAt), r.outcome, r.jobId, r.workflowId, r.reason]),
  );
}

export function registerScheduleCommands(program: Command, client: Client): void {
  const schedules = program
    .command('schedules')
    .description('start a job or a workflow on a cron expression');

  schedules
    .command('create')
    .description('create a schedule; the job is given after --, with --shell, or in --file')
    .argument('<name>', 'unique in your tenant')
    .argument('[command...]', 'argv of the job to start')
    .requiredOption('--cron <expression>', '5 fields (minute first) or 6 (second first)')
    .option('--tz <zone>', 'the IANA time zone the cron follows (default UTC)')
    .option('-t, --topic <topic>', 'the topic of the job')
    .option('-c, --shell <script>', 'a script run by /bin/sh -c')
    .option('-f, --file <file>', 'a job spec, a workflow, or {"job"|"workflow": ...} (JSON/YAML)')
    .option('-e, --env <KEY=VALUE>', 'an environment variable of the job (repeatable)', keyValue)
    .option('--overlap <policy>', 'allow (default), skip or cancel_previous')
    .option('--catch-up <policy>', 'none (default) or all: run fires missed during downtime')
    .option(
      '--catch-up-limit <n>',
      'with --catch-up all: at most this many (default 10)',
      wholeNumber,
    )
    .option('--paused', 'create it paused')
    .action(async (name: string, argv: string[], options, command: Command) => {
      const { api, json } = client(command);
      const created = await api.post<ScheduleDetailView>('/v1/schedules', {
        name,
        cron: options.cron,
        ...(options.tz && { timeZone: options.tz }),
        ...(options.overlap && { overlap: options.overlap }),
        ...(options.catchUp && { catchUp: options.catchUp }),
        ...(options.catchUpLimit !== undefined && { catchUpLimit: options.catchUpLimit }),
        ...(options.paused && { paused: true }),
        ...scheduleTarget(argv, options),
      });
      for (const warning of created.warnings) process.stderr.write(`warning: ${warning}\n`);
      print(json, created, () => `created ${describe(created)}`);
    });

  schedules
    .command('list')
    .description('your schedules, newest first')
    .action(async (_options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: ScheduleView[] }>('/v1/schedules?limit=500');
      print(json, page, () =>
        table(
          ['id', 'name', 'cron', 'zone', 'next run', 'last fired', 'missed'],
          page.items.map((s) => [
            s.id,
            s.name,
            s.cron,
            s.timeZone,
            s.paused ? 'paused' : dateTime(s.nextRunAt),
            dateTime(s.lastFiredAt),
            s.missedRuns,
          ]),
        ),
      );
    });

  schedules
    .command('get')
    .description('a schedule and its last runs')
    .argument('<id>', 'the schedule id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const s = await api.get<ScheduleDetailView>(`/v1/schedules/${encodeURIComponent(id)}`);
      print(json, s, () => `${describe(s)}\n${runsTable(s.lastRuns)}`);
    });

  schedules
    .command('runs')
    .description('the newest runs of a schedule')
    .argument('<id>', 'the schedule id')
    .option('--limit <n>', 'how many (at most 100)', wholeNumber)
    .action(async (id: string, options, command: Command) => {
      const { api, json } = client(command);
      const runs = await api.get<{ items: ScheduleRunView[] }>(
        `/v1/schedules/${encodeURIComponent(id)}/runs?limit=${options.limit ?? 20}`,
      );
      print(json, runs, () => runsTable(runs.items));
    });

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedules
      .command(verb)
      .description(
        paused ? 'stop firing until resumed' : 'fire again, from the next time after now',
      )
      .argument('<id>', 'the schedule id')
      .action(async (id: string, _options, command: Command) => {
        const { api, json } = client(command);
        const s = await api.patch<ScheduleDetailView>(`/v1/schedules/${encodeURIComponent(id)}`, {
          paused,
        });
        print(json, s, () => describe(s));
      });
  }

  schedules
    .command('delete')
    .description('delete a schedule (the jobs and workflows it started stay)')
    .argument('<id>', 'the schedule id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      await api.delete(`/v1/schedules/${encodeURIComponent(id)}`);
      print(json, { id, deleted: true }, () => `schedule ${id} deleted`);
    });
}
