import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { InvalidArgumentError } from './errors';

type Constructor<T> = new () => T;

/**
 * Reads a config class (class-validator decorated, one property per environment variable)
 * from `env`. Throws one InvalidArgumentError whose message names every bad variable and
 * what it must be, so a process can stop with a single clear line.
 */
export function loadConfig<T extends object>(cls: Constructor<T>, env: NodeJS.ProcessEnv): T {
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
  const errors = validateSync(config, { forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) {
    throw new InvalidArgumentError(`invalid configuration: ${describeErrors(errors, values)}`);
  }
  return config;
}

function describeErrors(errors: ValidationError[], values: Record<string, unknown>): string {
  return errors
    .map((error) => {
      const got = values[error.property];
      const problems = Object.values(error.constraints ?? {}).join(', ');
      return got === undefined ? problems : `${problems} (got ${JSON.stringify(got)})`;
    })
    .join('; ');
}
