import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const COMMITTED = join(__dirname, 'generated');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

it('the committed generated types are what `npm run proto:gen` makes from proto/danube.proto', () => {
  const out = mkdtempSync(join(tmpdir(), 'danube-proto-'));
  try {
    // The same command as the npm script, into a scratch folder.
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts[
      'proto:gen'
    ] as string;
    const command = script.replaceAll('libs/proto/src/generated', out);
    execFileSync('sh', ['-c', command], {
      cwd: ROOT,
      stdio: 'pipe',
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
    });
    const made = files(out)
      .map((f) => relative(out, f))
      .sort();
    expect(made).toEqual(
      files(COMMITTED)
        .map((f) => relative(COMMITTED, f))
        .sort(),
    );
    for (const file of made) {
      expect({ file, text: readFileSync(join(out, file), 'utf8') }).toEqual({
        file,
        text: readFileSync(join(COMMITTED, file), 'utf8'),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
