import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDate,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  registerDecorator,
} from 'class-validator';
import { ROLES, TENANT_NAME_PATTERN, TENANT_NAME_RULE, type Quotas, type Role } from '@danube/auth';
import { TASK_CLASSES } from '@danube/core';
import { PageQuery } from '../http/page.query';
import { ValidateNestedObjects } from '../http/validators';

/** What POST /v1/api-keys, /v1/tenants and their friends take. */

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci-pipeline', description: 'What the key is for' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'member' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: "The key's tenant; default: the caller's" })
  @IsOptional()
  @Matches(TENANT_NAME_PATTERN, { message: `tenant must be ${TENANT_NAME_RULE}` })
  tenant?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: never' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: Date;
}

export class ListApiKeysQuery {
  @ApiPropertyOptional({ description: "Only this tenant's keys; default: every tenant's" })
  @IsOptional()
  @Matches(TENANT_NAME_PATTERN, { message: `tenant must be ${TENANT_NAME_RULE}` })
  tenant?: string;
}

/** A map of task class to a cap on its running jobs. */
function IsClassCaps(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isClassCaps',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must map task classes (${TASK_CLASSES.join(', ')}) to whole numbers of at least 0, e.g. {"gpu": 2}`,
      },
      validator: {
        validate(value: unknown) {
          return (
            typeof value === 'object' &&
            value !== null &&
            !Array.isArray(value) &&
            Object.entries(value).every(
              ([key, cap]) =>
                (TASK_CLASSES as readonly string[]).includes(key) &&
                Number.isInteger(cap) &&
                (cap as number) >= 0 &&
                (cap as number) <= 1_000_000,
            )
          );
        },
      },
    });
}

/** Quotas; a field left out stays as it is, null removes the limit. */
export class QuotasDto {
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Running jobs at once' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  maxRunning?: number | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Running jobs at once per task class, e.g. {"gpu": 2}',
  })
  @IsOptional()
  @IsClassCaps()
  maxRunningByClass?: Record<string, number>;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Queued jobs at most' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  maxQueued?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Longest job timeout' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31 * 24 * 3600)
  maxTimeoutSeconds?: number | null;
}

/** The quotas present in a DTO (null included: it clears a limit). */
export function quotaChanges(dto: QuotasDto | undefined): Partial<Quotas> {
  if (!dto) return {};
  return Object.fromEntries(
    Object.entries(dto).filter(([, value]) => value !== undefined),
  ) as Partial<Quotas>;
}

export class CreateTenantDto {
  @ApiProperty({ example: 'team-energy', description: TENANT_NAME_RULE })
  @Matches(TENANT_NAME_PATTERN, { message: `name must be ${TENANT_NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ type: QuotasDto })
  @IsOptional()
  @ValidateNestedObjects(() => QuotasDto)
  quotas?: QuotasDto;
}

export class UpdateTenantDto {
  @ApiProperty({ type: QuotasDto })
  @ValidateNestedObjects(() => QuotasDto)
  quotas!: QuotasDto;
}

export class CreateImageRuleDto {
  @ApiProperty({ example: 'ghcr.io/acme/*', description: 'A glob: * matches any characters' })
  @IsString()
  @Length(1, 512)
  pattern!: string;

  @ApiPropertyOptional({ description: 'Only for jobs on this topic; default: every topic' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  topic?: string;

  @ApiPropertyOptional({
    description: 'A Secret in the jobs namespace, used as imagePullSecrets for matching images',
  })
  @IsOptional()
  @Matches(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, {
    message: 'pullSecret must be a Kubernetes Secret name',
  })
  pullSecret?: string;
}

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: "Only this tenant's entries" })
  @IsOptional()
  @Matches(TENANT_NAME_PATTERN, { message: `tenant must be ${TENANT_NAME_RULE}` })
  tenant?: string;
}
