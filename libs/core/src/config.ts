import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { InvalidArgumentError } from './errors';

type Constructor<T> = new () => T;

const TYPE_CHECKS = new Set(['isInt', 'isNumber', 'isString', 'isBoolean', 'isIn', 'matches']);

/**
 * Reads a config class (class-validator decorated, one property per environment variable)
 * from `env`. Throws one InvalidArgumentError whose message names every bad variable and
 * what it must be, so a process can stop with a single clear line.
 *
 * `renamed` maps old variable names to their new ones: an old name still works when the
 * new one is not set, with a deprecation warning (on stderr) that says what to use instead.
 */
export function loadConfig<T extends object>(
  cls: Constructor<T>,
  env: NodeJS.ProcessEnv,
  renamed: Readonly<Record<string, string>> = {},
): T {
  for (const [old, current] of Object.entries(renamed)) {
    if (env[old] === undefined || env[old] === '') continue;
    process.emitWarning(
      env[current] === undefined
        ? `${old} is renamed ${current}: set ${current} instead (${old} still works for now)`
        : `${old} is renamed ${current}, which is set too: ${old} is ignored; unset it`,
      { type: 'DeprecationWarning', code: `DANUBE_${old}` },
    );
    if (env[current] === undefined) env = { ...env, [current]: env[old] };
  }
  // Every decorated property, including optional ones that have no default value.
  const known = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(cls, '', true, false)
      .map((metadata) => metadata.propertyName),
  );
  const values: Record<string, unknown> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') values[key] = value;
  }
  const config = plainToInstance(cls, values, {
    exposeDefaultValues: true,
    enableImplicitConversion: false,
  });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new InvalidArgumentError(`invalid configuration: ${describeErrors(errors, values)}`);
  }
  return config;
}

function describeErrors(errors: ValidationError[], values: Record<string, unknown>): string {
  return errors
    .map((error) => {
      const got = values[error.property];
      const constraints = error.constraints ?? {};
      // A value of the wrong kind ("lots" for a number) fails every range check too; say only what kind it must be.
      const kind = Object.keys(constraints).find((name) => TYPE_CHECKS.has(name));
      const problems = kind ? constraints[kind] : Object.values(constraints).join(', ');
      return got === undefined ? problems : `${problems} (got ${JSON.stringify(got)})`;
    })
    .join('; ');
}
