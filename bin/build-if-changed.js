#!/usr/bin/env node
// npm start's build: runs `npm run build` only when a source or build setting changed since
// the last build, so that starting again takes a second, not a compile. `--stamp` (the
// last step of `npm run build`) records that dist/ is up to date.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const SOURCE_DIRS = ['apps', 'libs', 'bench', 'chaos', 'examples'];
const SETTINGS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time (ms) of a .ts file under `dir` (an example's own installs and builds aside). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') {
        newest = Math.max(newest, newestSource(path));
      }
    } else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--stamp')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(
  ...SOURCE_DIRS.filter((d) => existsSync(join(root, d))).map((d) => newestSource(join(root, d))),
  ...SETTINGS.filter((f) => existsSync(join(root, f))).map((f) => statSync(join(root, f)).mtimeMs),
);
if (changed <= built) process.exit(0);

process.stdout.write('Building (sources changed since the last build) ...\n');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const build = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
