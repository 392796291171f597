import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** Keyset pagination, newest first: pass the previous page's nextCursor as cursor. */
export class PageQuery {
  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

/** The page and the cursor of the next one (null on the last page). */
export function page<T extends { id: string }>(
  items: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
}
