#!/usr/bin/env node
// The `danube` command (npx danube): the compiled CLI in dist/ (built by npm install's prepare).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('danube: the CLI is not built yet; run `npm run build` first\n');
  process.exit(1);
}
require(main)
  .run(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
