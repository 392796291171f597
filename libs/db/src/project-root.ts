import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root (the folder holding package.json and migrations/), found by walking
 * up from this file, so the same code works from the TypeScript sources and from dist/.
 */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'migrations')) || !existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the Danube project root above ${from}`);
    dir = parent;
  }
  return dir;
}
