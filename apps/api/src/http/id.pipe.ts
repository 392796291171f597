import { Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidArgumentError } from '@danube/core';

const MAX_BIGINT = 9223372036854775807n;

/** Path ids are positive 64-bit integers; anything else is a 400 naming the parameter. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^\d{1,19}$/.test(value) || BigInt(value) === 0n || BigInt(value) > MAX_BIGINT) {
      throw new InvalidArgumentError(
        `id must be a positive whole number (got ${JSON.stringify(value)})`,
        { field: 'id' },
      );
    }
    return BigInt(value).toString();
  }
}
