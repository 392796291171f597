import { Option, type Command } from 'commander';
import type { ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';
import { duration } from '../parse';

type Client = (command: Command) => { api: ApiClient; json: boolean };

export const ROLES = ['admin', 'member', 'viewer'] as const;

/** An API key as the API shows it: never the key itself, only its first characters. */
export interface ApiKeyView {
  id: string;
  name: string;
  tenant: string;
  role: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export function registerKeyCommands(program: Command, client: Client): void {
  const keys = program.command('keys').description('API keys: create, list, revoke');

  keys
    .command('create')
    .description('create an API key; the key is printed once, here')
    .requiredOption('--name <name>', 'what the key is for (shown in lists and the audit log)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).default('member'))
    .option('--tenant <tenant>', "the key's tenant (default: the caller's)")
    .option(
      '--expires-in <duration>',
      'it stops working after 90m, 12h, 30d... (default: never)',
      duration,
    )
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const expiresIn: number | undefined = options.expiresIn;
      const created = await api.post<ApiKeyView & { key?: string }>('/v1/api-keys', {
        name: options.name,
        role: options.role,
        ...(options.tenant ? { tenant: options.tenant } : {}),
        ...(expiresIn === undefined
          ? {}
          : { expiresAt: new Date(Date.now() + expiresIn).toISOString() }),
      });
      // Without a key field the whole answer is printed: the key must not be lost.
      if (json || typeof created.key !== 'string') {
        print(true, created, () => '');
      } else {
        // The key alone on stdout, so that `danube keys create ... > file` keeps just it.
        process.stdout.write(`${created.key}\n`);
      }
      process.stderr.write('Store this key now: it is not shown again.\n');
    });

  keys
    .command('list')
    .description('list API keys, revoked and expired ones too')
    .option('--tenant <tenant>', "only this tenant's keys")
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const query = options.tenant ? `?${new URLSearchParams({ tenant: options.tenant })}` : '';
      const page = await api.get<{ items: ApiKeyView[] }>(`/v1/api-keys${query}`);
      print(json, page, () =>
        table(
          ['id', 'name', 'tenant', 'role', 'prefix', 'expires', 'revoked'],
          page.items.map((k) => [
            k.id,
            k.name,
            k.tenant,
            k.role,
            k.prefix,
            dateTime(k.expiresAt),
            dateTime(k.revokedAt),
          ]),
        ),
      );
    });

  keys
    .command('revoke')
    .description('revoke an API key: it stops working at once')
    .argument('<id>', 'key id (from keys list)')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const key = await api.delete<ApiKeyView>(`/v1/api-keys/${encodeURIComponent(id)}`);
      print(json, key, () => `revoked key ${key.id} (${key.prefix}...)`);
    });
}
