import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ROLES,
  type ApiKeyRecord,
  type AuditRecord,
  type ImageRuleRecord,
  type TenantRecord,
} from '@danube/auth';

/** What the API answers about keys, tenants and the audit log. */

export class ApiKeyResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty()
  tenant!: string;
  @ApiProperty({ enum: ROLES })
  role!: string;
  @ApiProperty({ description: "The key's first characters, to recognise it" })
  prefix!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: Date | null;

  static of(record: ApiKeyRecord): ApiKeyResponse {
    const { createdBy: _createdBy, ...shown } = record;
    return shown;
  }
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key itself: shown this once, stored only as a hash' })
  key!: string;
}

export class ApiKeyList {
  @ApiProperty({ type: [ApiKeyResponse] })
  items!: ApiKeyResponse[];
}

export class QuotasResponse {
  @ApiProperty({ type: Number, nullable: true })
  maxRunning!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  maxRunningByClass!: Record<string, number>;
  @ApiProperty({ type: Number, nullable: true })
  maxQueued!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  maxTimeoutSeconds!: number | null;
}

export class TenantResponse {
  @ApiProperty()
  name!: string;
  @ApiProperty({ type: QuotasResponse })
  quotas!: QuotasResponse;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  static of(record: TenantRecord): TenantResponse {
    return record;
  }
}

export class TenantList {
  @ApiProperty({ type: [TenantResponse] })
  items!: TenantResponse[];
}

export class ImageRuleResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  tenant!: string;
  @ApiProperty({ type: String, nullable: true })
  topic!: string | null;
  @ApiProperty()
  pattern!: string;
  @ApiProperty({ type: String, nullable: true })
  pullSecret!: string | null;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  static of(record: ImageRuleRecord): ImageRuleResponse {
    return record;
  }
}

export class ImageRuleList {
  @ApiProperty({ type: [ImageRuleResponse] })
  items!: ImageRuleResponse[];
}

export class AuditEntryResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  at!: Date;
  @ApiProperty({ type: String, nullable: true, description: 'The API key that acted' })
  keyId!: string | null;
  @ApiProperty()
  tenant!: string;
  @ApiProperty({ example: 'job.cancel' })
  action!: string;
  @ApiProperty({ type: String, nullable: true, example: 'job/42' })
  target!: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  details!: Record<string, unknown> | null;

  static of(record: AuditRecord): AuditEntryResponse {
    return record;
  }
}

export class AuditPage {
  @ApiProperty({ type: [AuditEntryResponse] })
  items!: AuditEntryResponse[];
  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
