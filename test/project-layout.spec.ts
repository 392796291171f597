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
});
