import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SecretView } from '@danube/sdk/rest-client';
import { CliError, EXIT, type ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';

type Client = (command: Command) => { api: ApiClient; json: boolean };

/** The value to store: the argument, the file's contents, or standard input. */
function secretValue(value: string | undefined, fromFile: string | undefined): string {
  if (value !== undefined && fromFile !== undefined)
    throw new CliError(
      'give the value either as an argument or with --from-file, not both',
      EXIT.usage,
    );
  if (value !== undefined) return value;
  if (fromFile === undefined && process.stdin.isTTY)
    throw new CliError(
      'no value: give it as an argument, with --from-file FILE, or on standard input (danube secrets set NAME < file)',
      EXIT.usage,
    );
  try {
    return readFileSync(fromFile ?? 0, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new CliError(
      `cannot read ${fromFile ?? 'standard input'}: ${(error as Error).message}`,
      EXIT.usage,
    );
  }
}

export function registerSecretCommands(program: Command, client: Client): void {
  const secrets = program
    .command('secrets')
    .description("your tenant's secrets: values are written, never read back");

  secrets
    .command('set')
    .description('store a secret (a new one, or a new value); the value is never printed')
    .argument('<name>', 'its name, e.g. db-password')
    .argument('[value]', 'the value (default: --from-file, else standard input)')
    .option('--from-file <file>', 'read the value from this file')
    .action(async (name: string, value: string | undefined, options, command: Command) => {
      const { api, json } = client(command);
      const stored = await api.put<SecretView>(`/v1/secrets/${encodeURIComponent(name)}`, {
        value: secretValue(value, options.fromFile),
      });
      print(json, stored, () => `secret ${stored.name} stored (key ${stored.keyId})`);
    });

  secrets
    .command('list')
    .description('the names of your secrets, with when they were set')
    .action(async (_options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: SecretView[] }>('/v1/secrets');
      print(json, page, () =>
        table(
          ['name', 'key', 'created', 'updated'],
          page.items.map((s) => [s.name, s.keyId, dateTime(s.createdAt), dateTime(s.updatedAt)]),
        ),
      );
    });

  secrets
    .command('delete')
    .description('delete a secret')
    .argument('<name>', 'its name')
    .action(async (name: string, _options, command: Command) => {
      const { api, json } = client(command);
      await api.delete(`/v1/secrets/${encodeURIComponent(name)}`);
      print(json, { name, deleted: true }, () => `secret ${name} deleted`);
    });
}
