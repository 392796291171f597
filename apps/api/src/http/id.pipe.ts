import { Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidArgumentError, MAX_ID } from '@danube/core';

/** Path ids are positive 64-bit integers; anything else is a 400 naming the parameter. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^\d{1,19}$/.test(value) || BigInt(value) === 0n || BigInt(value) > MAX_ID) {
      throw new InvalidArgumentError(
        `id must be a positive whole number (got ${JSON.stringify(value)})`,
        { field: 'id' },
      );
    }
    return BigInt(value).toString();
  }
}
