import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const root = join(__dirname, '..');

/**
 * docker-compose.yml against the Compose Specification's JSON schema (the copy dclint
 * ships), which is what `docker compose config` checks a file against.
 */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const schemaPath = join(
    dirname(require.resolve('dclint/package.json')),
    'schemas',
    'compose.schema.json',
  );
  const { $schema: _ignored, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8'));

  it('is valid against the Compose Specification', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs Postgres, the API and two executors on different topics', () => {
    const services = compose.services as Record<
      string,
      { environment?: Record<string, string>; command?: string[] }
    >;
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'executor-batch',
      'executor-default',
      'postgres',
    ]);
    const topics = ['executor-batch', 'executor-default'].map(
      (name) => services[name]!.environment!.EXECUTOR_TOPICS,
    );
    expect(topics[0]).not.toEqual(topics[1]);
    expect(services['executor-default']!.command).toEqual([
      'node',
      'dist/apps/executor/src/main.js',
    ]);
    expect(compose.version).toBeUndefined();
  });
});
