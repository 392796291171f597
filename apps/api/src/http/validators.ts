import { registerDecorator, type ValidationOptions } from 'class-validator';

/** A command: a non-empty string (run by /bin/sh -c) or a non-empty array of strings (argv). */
export function IsCommand(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCommand',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a non-empty string, or a non-empty array of strings (argv)`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value === 'string') return value.trim().length > 0 && value.length <= 65_536;
          return (
            Array.isArray(value) &&
            value.length > 0 &&
            value.length <= 1000 &&
            value.every((arg) => typeof arg === 'string' && arg.length <= 65_536) &&
            (value[0] as string).length > 0
          );
        },
      },
    });
}

/** An object whose values are all strings, with at most `maxKeys` keys. */
export function IsStringRecord(maxKeys = 200, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringRecord',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be an object of string values with at most ${maxKeys} keys`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= maxKeys &&
            entries.every(
              ([k, v]) =>
                k.length > 0 && k.length <= 256 && typeof v === 'string' && v.length <= 65_536,
            )
          );
        },
      },
    });
}
