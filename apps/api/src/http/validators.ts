import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { registerDecorator, ValidateNested, type ValidationOptions } from 'class-validator';

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

/**
 * A nested DTO, or with `each` an array of them, checked to be plain objects first and then
 * transformed and validated. ValidateNested alone lets an array (`{"jobs": [[]]}`) through
 * to class-transformer, which makes of it something no handler expects.
 */
export function ValidateNestedObjects(
  type: () => new () => object,
  { each = false }: { each?: boolean } = {},
): PropertyDecorator {
  return applyDecorators(IsPlainObjects(each), ValidateNested({ each }), Type(type));
}

function IsPlainObjects(each: boolean): PropertyDecorator {
  const isPlainObject = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const describe = (value: unknown) =>
    value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPlainObjects',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) =>
          each ? Array.isArray(value) && value.every(isPlainObject) : isPlainObject(value),
        defaultMessage: (args) => {
          const { value, property } = args!;
          if (!each) return `${property} must be an object, not ${describe(value)}`;
          if (!Array.isArray(value)) return `${property} must be an array of objects`;
          const bad = value.findIndex((item) => !isPlainObject(item));
          return `${property}.${bad} must be an object, not ${describe(value[bad])}`;
        },
      },
    });
}
