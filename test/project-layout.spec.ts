import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const json = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

describe('the monorepo layout', () => {
  const nest = json('nest-cli.json');
  const tsconfig = json('tsconfig.json');

  it.each(['apps', 'libs'])(
    'nest-cli.json declares every folder of %s/, and nothing else',
    (kind) => {
      const folders = readdirSync(join(root, kind)).sort();
      const declared = Object.entries(nest.projects as Record<string, { root: string }>)
        .filter(([, p]) => p.root.startsWith(`${kind}/`))
        .map(([name, p]) => {
          // Applications by folder name; libraries by the name they are imported as.
          const folder = kind === 'libs' ? name.replace(/^@danube\//, '') : name;
          expect(p.root).toBe(`${kind}/${folder}`);
          return folder;
        })
        .sort();
      expect(declared).toEqual(folders);
    },
  );

  it('every library has an entry point and a @danube/* path alias', () => {
    for (const lib of readdirSync(join(root, 'libs'))) {
      expect(existsSync(join(root, 'libs', lib, 'src', 'index.ts'))).toBe(true);
      expect(tsconfig.compilerOptions.paths[`@danube/${lib}`]).toEqual([`libs/${lib}/src`]);
    }
  });

  it("README's layout names every app and lib, and every folder it names exists", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('## REST API'));
    const block = section.slice(section.indexOf('```') + 3, section.lastIndexOf('```'));
    const named = block
      .split('\n')
      .map((line) => line.split(/\s+/)[0]!)
      .filter(Boolean);
    for (const folder of named)
      expect({ folder, exists: existsSync(join(root, folder)) }).toEqual({ folder, exists: true });
    const folders = ['apps', 'libs'].flatMap((kind) =>
      readdirSync(join(root, kind)).map((name) => `${kind}/${name}`),
    );
    expect(folders.filter((f) => !named.includes(f))).toEqual([]);
  });
});

describe('the SDKs follow the project', () => {
  const project = json('package.json');

  it("@danube/sdk has the project's version and its runtime dependencies' ranges", () => {
    const sdk = json('libs/sdk/package.json');
    expect(sdk.version).toBe(project.version);
    for (const [name, range] of Object.entries(sdk.dependencies)) {
      expect({ name, range }).toEqual({ name, range: project.dependencies[name] });
    }
  });

  it("the Python SDK has the project's version, in pyproject.toml and in the package", () => {
    const pyproject = readFileSync(join(root, 'sdks/python/pyproject.toml'), 'utf8');
    expect(/^version = "([^"]+)"$/m.exec(pyproject)?.[1]).toBe(project.version);
    const init = readFileSync(join(root, 'sdks/python/danube/__init__.py'), 'utf8');
    expect(/^__version__ = "([^"]+)"$/m.exec(init)?.[1]).toBe(project.version);
  });
});
