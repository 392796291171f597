import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError, EXIT } from './api-client';

/** Where `npm start` writes the local admin key, relative to the directory it runs in. */
export const ADMIN_KEY_FILE = join('.danube', 'admin-key');

/**
 * The API key the CLI sends: --api-key, else DANUBE_API_KEY, else the nearest
 * .danube/admin-key from `cwd` up, so that `danube` works anywhere inside a checkout where
 * `npm start` runs. Undefined when there is none (an API without keys needs none).
 */
export function resolveApiKey(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string | undefined {
  return flag?.trim() || env.DANUBE_API_KEY?.trim() || findAdminKey(cwd);
}

/** The key in the nearest .danube/admin-key from `from` up to the root; empty files are skipped. */
export function findAdminKey(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, ADMIN_KEY_FILE);
    try {
      const key = readFileSync(file, 'utf8').trim();
      if (key) return key;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Not there (or .danube is a file): look further up. Anything else is worth saying,
      // rather than a puzzling 401 later.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.failed);
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
