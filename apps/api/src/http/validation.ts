import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { InvalidArgumentError } from '@danube/core';

/**
 * Request DTOs are validated strictly: unknown fields are refused, nothing is coerced,
 * and the error names every offending field by its full path (`jobs.3.timeoutSeconds`).
 */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new InvalidArgumentError(problems.map((p) => p.message).join('; '), {
        fields: problems.map((p) => p.field),
      });
    },
  });
}

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message:
        message.startsWith(`${error.property} `) || message.startsWith('property ')
          ? message
              .replace(/^property (\S+)/, `property ${parent ? `${parent}.` : ''}$1`)
              .replace(new RegExp(`^${escape(error.property)} `), `${field} `)
          : `${field}: ${message}`,
    }));
    return own.concat(flatten(error.children ?? [], field));
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
