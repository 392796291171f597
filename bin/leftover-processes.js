#!/usr/bin/env node
// Lists the processes a test run of this checkout left behind, and exits 1 if there are any:
// anything whose command line names a file of this folder: API, executors, CLI, benchmark
// and chaos runs, jest workers, and the test Postgres servers (their binaries live in this
// folder's node_modules).
//
//   npm test; node bin/leftover-processes.js
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

function isLeftover(args) {
  return args.includes(`${root}/`);
}

const ancestors = new Set();
for (let pid = process.pid; pid > 1;) {
  ancestors.add(pid);
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
  })();
  if (!stat) break;
  pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const leftovers = [];
for (const entry of readdirSync('/proc')) {
  if (!/^\d+$/.test(entry) || ancestors.has(Number(entry))) continue;
  const args = commandLine(entry);
  if (args && isLeftover(args)) leftovers.push(`${entry} ${args.slice(0, 200)}`);
}

if (leftovers.length === 0) {
  process.stdout.write('no leftover processes\n');
} else {
  process.stdout.write(`${leftovers.length} leftover processes:\n${leftovers.join('\n')}\n`);
  process.exitCode = 1;
}
