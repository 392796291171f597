#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ApiClient, CliError, EXIT } from './api-client';
import { resolveApiKey } from './api-key';
import { registerArtifactCommands } from './commands/artifacts';
import { registerFleetCommands } from './commands/fleet';
import { registerJobCommands } from './commands/jobs';
import { registerKeyCommands } from './commands/keys';
import { registerScheduleCommands } from './commands/schedules';
import { registerSecretCommands } from './commands/secrets';
import { registerTenantCommands } from './commands/tenants';
import { registerUsageCommands } from './commands/usage';
import { registerWorkflowCommands } from './commands/workflows';

/**
 * `danube`: the REST API from a terminal. Tables for people, --json for scripts.
 * Exit codes: 0 done, 1 refused or not succeeded, 2 bad usage, 3 API unreachable;
 * `submit --wait` exits with the job's own exit code (124 timed out, 130 cancelled).
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('danube')
    .description('Submit and follow Danube jobs and workflows')
    .option('--url <url>', 'the API (default: $DANUBE_API_URL or http://localhost:3000)')
    .option(
      '--api-key <key>',
      'the API key (default: $DANUBE_API_KEY, else the nearest .danube/admin-key)',
    )
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride();
  const client = (command: Command) => {
    const options = command.optsWithGlobals() as { url?: string; apiKey?: string; json?: boolean };
    return {
      api: new ApiClient(
        options.url ?? apiUrlFromEnv() ?? 'http://localhost:3000',
        resolveApiKey(options.apiKey),
      ),
      json: options.json === true,
    };
  };
  registerJobCommands(program, client);
  registerWorkflowCommands(program, client);
  registerSecretCommands(program, client);
  registerArtifactCommands(program, client);
  registerFleetCommands(program, client);
  registerKeyCommands(program, client);
  registerTenantCommands(program, client);
  registerUsageCommands(program, client);
  registerScheduleCommands(program, client);
  // Every subcommand reports usage errors the same way as the program.
  const override = (command: Command) => {
    command.exitOverride().showHelpAfterError();
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/**
 * DANUBE_API_URL, the name jobs and the SDK use too; DANUBE_URL, its old name, still works
 * with a warning.
 */
function apiUrlFromEnv(): string | undefined {
  const { DANUBE_API_URL: current, DANUBE_URL: old } = process.env;
  if (old && !current) {
    process.stderr.write('danube: DANUBE_URL is renamed DANUBE_API_URL; set that instead\n');
    return old;
  }
  return current;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander has printed what it had to say.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code))
        return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`danube: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`danube: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
