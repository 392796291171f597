#!/usr/bin/env node
// Builds the publishable @danube/sdk and packs it: `npm run sdk:pack [-- <folder>]` writes
// danube-sdk-<version>.tgz to <folder> (default: build/) and prints the tarball's path.
//
// The package is the SDK and the proto loader it imports, compiled to CommonJS with type
// declarations (libs/sdk/tsconfig.package.json), a thin ES module over the same code (so
// `import` and `require` share one module state), proto/danube.proto, and libs/sdk's
// package.json and README.md.
const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const sdk = join(root, 'libs', 'sdk');
const stage = join(root, 'build', 'sdk-package');
const out = resolve(process.argv[2] ?? join(root, 'build'));

const manifest = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8'));
const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (manifest.version !== project.version) {
  console.error(
    `libs/sdk/package.json has version ${manifest.version} but the project is at ${project.version}: make them equal`,
  );
  process.exit(1);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (command, args, cwd = root) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

rmSync(stage, { recursive: true, force: true });
const config = join(sdk, 'tsconfig.package.json');
run(bin('tsc'), ['-p', config]);
run(bin('tsc-alias'), ['-p', config]);

// The ES module entry points re-export the CommonJS build's names, one by one.
mkdirSync(join(stage, 'dist', 'esm'), { recursive: true });
for (const entry of ['index', 'rest-client']) {
  const cjs = `../cjs/sdk/src/${entry}.js`;
  const names = Object.keys(require(join(stage, 'dist', 'esm', cjs))).filter(
    (name) => name !== 'default' && name !== '__esModule',
  );
  writeFileSync(
    join(stage, 'dist', 'esm', `${entry}.mjs`),
    `import sdk from '${cjs}';\n\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = sdk;\n`,
  );
  writeFileSync(join(stage, 'dist', 'esm', `${entry}.d.mts`), `export * from '${cjs}';\n`);
}

mkdirSync(join(stage, 'proto'));
copyFileSync(join(root, 'proto', 'danube.proto'), join(stage, 'proto', 'danube.proto'));
copyFileSync(join(sdk, 'README.md'), join(stage, 'README.md'));
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

mkdirSync(out, { recursive: true });
const packed = JSON.parse(
  run('npm', ['pack', '--json', '--pack-destination', out, '--ignore-scripts'], stage),
);
console.log(join(out, packed[0].filename));
