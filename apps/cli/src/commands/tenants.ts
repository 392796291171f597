import type { Command } from 'commander';
import { CliError, EXIT, type ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';
import { classCap, limit, noLimit } from '../parse';
import type { ImageRuleView, QuotasView as Quotas, TenantView } from '@danube/sdk/rest-client';

type Client = (command: Command) => { api: ApiClient; json: boolean };

/** The quota flags as commander parsed them; a class set to none is null. */
interface QuotaOptions {
  maxRunning?: number | 'none';
  maxQueued?: number | 'none';
  maxTimeout?: number | 'none';
  classCap?: Record<string, number | null>;
}

function addQuotaOptions(command: Command, none: string): Command {
  return command
    .option('--max-running <n>', `jobs running at once${none}`, limit)
    .option('--max-queued <n>', `jobs waiting at once${none}`, limit)
    .option('--max-timeout <seconds>', `longest timeout a job may ask for${none}`, limit)
    .option('--class-cap <class=n>', `jobs of a task class running at once (repeatable)`, classCap);
}

/** Only the scalar limits given: a PATCH leaves the others as they are. */
function scalarQuotas(options: QuotaOptions): Partial<Quotas> {
  const quotas: Partial<Quotas> = {};
  if (options.maxRunning !== undefined) quotas.maxRunning = noLimit(options.maxRunning);
  if (options.maxQueued !== undefined) quotas.maxQueued = noLimit(options.maxQueued);
  if (options.maxTimeout !== undefined) quotas.maxTimeoutSeconds = noLimit(options.maxTimeout);
  return quotas;
}

/** `current` with `changes` applied; a class set to null (gpu=none) is dropped: no cap. */
export function mergeClassCaps(
  current: Record<string, number>,
  changes: Record<string, number | null>,
): Record<string, number> {
  const merged: Record<string, number> = { ...current };
  for (const [name, cap] of Object.entries(changes)) {
    if (cap === null) delete merged[name];
    else merged[name] = cap;
  }
  return merged;
}

const shown = (n: number | null) => (n === null ? 'none' : String(n));

const classCaps = (caps: Record<string, number>) =>
  Object.entries(caps)
    .map(([name, n]) => `${name}=${n}`)
    .join(', ') || 'none';

function tenantDetails(tenant: TenantView): string {
  const q = tenant.quotas;
  const rows: [string, string][] = [
    ['name', tenant.name],
    ['max running', shown(q.maxRunning)],
    ['class caps', classCaps(q.maxRunningByClass)],
    ['max queued', shown(q.maxQueued)],
    ['max timeout', q.maxTimeoutSeconds === null ? 'none' : `${q.maxTimeoutSeconds} s`],
    ['created', dateTime(tenant.createdAt)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

const tenantPath = (name: string) => `/v1/tenants/${encodeURIComponent(name)}`;

export function registerTenantCommands(program: Command, client: Client): void {
  const tenants = program
    .command('tenants')
    .description('tenants, their quotas and the images their jobs may use');

  addQuotaOptions(
    tenants
      .command('create')
      .description('create a tenant, with quotas if given (none: no limit, the default)')
      .argument('<name>', 'tenant name'),
    '',
  ).action(async (name: string, options: QuotaOptions, command: Command) => {
    const { api, json } = client(command);
    const quotas: Partial<Quotas> = scalarQuotas(options);
    // Nothing to remove yet: gpu=none on a new tenant is simply no cap.
    if (options.classCap) quotas.maxRunningByClass = mergeClassCaps({}, options.classCap);
    const tenant = await api.post<TenantView>('/v1/tenants', {
      name,
      ...(Object.keys(quotas).length > 0 ? { quotas } : {}),
    });
    print(json, tenant, () => tenantDetails(tenant));
  });

  tenants
    .command('list')
    .description('list tenants and their quotas')
    .action(async (_options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: TenantView[] }>('/v1/tenants');
      print(json, page, () =>
        table(
          ['name', 'max running', 'class caps', 'max queued', 'max timeout', 'created'],
          page.items.map((t) => [
            t.name,
            shown(t.quotas.maxRunning),
            classCaps(t.quotas.maxRunningByClass),
            shown(t.quotas.maxQueued),
            shown(t.quotas.maxTimeoutSeconds),
            dateTime(t.createdAt),
          ]),
        ),
      );
    });

  tenants
    .command('get')
    .description('show a tenant and its quotas')
    .argument('<name>', 'tenant name')
    .action(async (name: string, _options, command: Command) => {
      const { api, json } = client(command);
      const tenant = await api.get<TenantView>(tenantPath(name));
      print(json, tenant, () => tenantDetails(tenant));
    });

  addQuotaOptions(
    tenants
      .command('set')
      .description("change a tenant's quotas; the ones not given stay as they are")
      .argument('<name>', 'tenant name'),
    ' (none: no limit)',
  ).action(async (name: string, options: QuotaOptions, command: Command) => {
    const quotas: Partial<Quotas> = scalarQuotas(options);
    if (Object.keys(quotas).length === 0 && !options.classCap) {
      throw new CliError(
        'nothing to change: give --max-running, --max-queued, --max-timeout or --class-cap',
        EXIT.usage,
      );
    }
    const { api, json } = client(command);
    if (options.classCap) {
      // The API takes the whole map, so one class changes by reading the others first.
      const current = await api.get<TenantView>(tenantPath(name));
      quotas.maxRunningByClass = mergeClassCaps(current.quotas.maxRunningByClass, options.classCap);
    }
    const tenant = await api.patch<TenantView>(tenantPath(name), { quotas });
    print(json, tenant, () => tenantDetails(tenant));
  });

  const images = tenants
    .command('images')
    .description("the images a tenant's jobs may run (rules of image patterns)");

  images
    .command('add')
    .description('allow images matching a pattern')
    .argument('<tenant>', 'tenant name')
    .argument('<pattern>', 'an image pattern, e.g. registry.example.com/team/*')
    .option('--topic <topic>', 'only for jobs of this topic (default: every topic)')
    .option('--pull-secret <name>', 'the secret the runtime pulls these images with')
    .action(async (tenant: string, pattern: string, options, command: Command) => {
      const { api, json } = client(command);
      const rule = await api.post<ImageRuleView>(`${tenantPath(tenant)}/image-rules`, {
        pattern,
        ...(options.topic ? { topic: options.topic } : {}),
        ...(options.pullSecret ? { pullSecret: options.pullSecret } : {}),
      });
      print(
        json,
        rule,
        () =>
          `added image rule ${rule.id}: ${rule.pattern} for tenant ${rule.tenant}${rule.topic ? `, topic ${rule.topic}` : ''}`,
      );
    });

  images
    .command('list')
    .description("list a tenant's image rules")
    .argument('<tenant>', 'tenant name')
    .action(async (tenant: string, _options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: ImageRuleView[] }>(`${tenantPath(tenant)}/image-rules`);
      print(json, page, () =>
        table(
          ['id', 'topic', 'pattern', 'pull secret', 'created'],
          page.items.map((r) => [
            r.id,
            r.topic ?? 'ALL',
            r.pattern,
            r.pullSecret,
            dateTime(r.createdAt),
          ]),
        ),
      );
    });

  images
    .command('remove')
    .description('remove an image rule')
    .argument('<tenant>', 'tenant name')
    .argument('<id>', 'rule id (from tenants images list)')
    .action(async (tenant: string, id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const answer = await api.delete<unknown>(
        `${tenantPath(tenant)}/image-rules/${encodeURIComponent(id)}`,
      );
      print(json, answer, () => `removed image rule ${id} from tenant ${tenant}`);
    });
}
