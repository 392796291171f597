import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const GENERATOR = join(ROOT, 'dist', 'apps', 'api', 'src', 'openapi.js');

/**
 * One shape for the API's answers: the response DTOs of apps/api make the OpenAPI document,
 * from which the SDK's types are generated (and the CLI uses the SDK's). A change to a DTO
 * that was not followed by `npm run openapi:gen` fails here.
 */
it('the committed OpenAPI document and SDK types are what `npm run openapi:gen` makes from the API', () => {
  const out = mkdtempSync(join(tmpdir(), 'danube-openapi-'));
  try {
    const document = join(out, 'danube.openapi.json');
    const types = join(out, 'rest-api.ts');
    execFileSync(process.execPath, [GENERATOR, document, types], { cwd: ROOT, stdio: 'pipe' });
    expect(readFileSync(document, 'utf8')).toBe(
      readFileSync(join(ROOT, 'openapi', 'danube.openapi.json'), 'utf8'),
    );
    expect(readFileSync(types, 'utf8')).toBe(
      readFileSync(join(__dirname, 'generated', 'rest-api.ts'), 'utf8'),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

it('every JSON answer of the API has a documented response schema', () => {
  const document = JSON.parse(
    readFileSync(join(ROOT, 'openapi', 'danube.openapi.json'), 'utf8'),
  ) as {
    paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
  };
  const undocumented = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, op]) =>
        Object.entries(op.responses).some(
          ([code, r]) => code.startsWith('2') && code !== '204' && !r.content,
        ),
      )
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
  expect(undocumented).toEqual([]);
});
