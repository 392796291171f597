import { DanubeError, InvalidArgumentError } from '@danube/core';

/** A job spec that is well-formed but cannot be run as asked. */
export class UnprocessableJobError extends DanubeError {
  constructor(field: string, message: string) {
    super('failed_precondition', `${field}: ${message}`, { field });
  }
}

export function invalidField(field: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${field} ${message}`, { field });
}
