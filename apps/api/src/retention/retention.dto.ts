import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import {
  MAX_KEEP_DAYS,
  MAX_LOG_BYTES_PER_ATTEMPT,
  MAX_TOPIC_RULES,
  MIN_KEEP_DAYS,
  MIN_LOG_BYTES_PER_ATTEMPT,
  type RetentionPolicy,
} from '@danube/housekeeping';
import { NAME_PATTERN, NAME_RULE } from '@danube/core';
import { ValidateNestedObjects } from '../http/validators';

/** What PUT /v1/retention takes. */

export class RetentionRuleDto {
  @ApiProperty({
    minimum: MIN_KEEP_DAYS,
    maximum: MAX_KEEP_DAYS,
    example: 30,
    description:
      'Days a finished job is kept (with its attempts, logs, events and artifacts) after it ended',
  })
  @IsInt()
  @Min(MIN_KEEP_DAYS)
  @Max(MAX_KEEP_DAYS)
  keepDays!: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: MIN_KEEP_DAYS,
    maximum: MAX_KEEP_DAYS,
    example: 90,
    description:
      'Days failed and timed-out jobs (and failed workflows) are kept instead; at least keepDays. Default: keepDays',
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_KEEP_DAYS)
  @Max(MAX_KEEP_DAYS)
  keepFailedDays?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: MIN_LOG_BYTES_PER_ATTEMPT,
    maximum: MAX_LOG_BYTES_PER_ATTEMPT,
    example: 1_048_576,
    description:
      'Most bytes of output kept per attempt once its job has finished: the first and last halves stay, the middle gives way to a line saying what was dropped. Default: no cap',
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_LOG_BYTES_PER_ATTEMPT)
  @Max(MAX_LOG_BYTES_PER_ATTEMPT)
  maxLogBytesPerAttempt?: number | null;
}

export class TopicRetentionRuleDto extends RetentionRuleDto {
  @ApiProperty({ example: 'nightly-reports', description: NAME_RULE })
  @IsString()
  @Matches(NAME_PATTERN, { message: `topic must be ${NAME_RULE}` })
  topic!: string;
}

export class RetentionPolicyDto {
  @ApiPropertyOptional({
    type: RetentionRuleDto,
    nullable: true,
    description:
      "The tenant's default, for its jobs on topics without a rule of their own and for its workflows (nodes included). Left out or null: the built-in default (RETENTION_DAYS)",
  })
  @IsOptional()
  @ValidateNestedObjects(() => RetentionRuleDto)
  default?: RetentionRuleDto | null;

  @ApiPropertyOptional({
    type: [TopicRetentionRuleDto],
    description:
      'Rules for jobs of single topics, outside workflows; each is whole (what it leaves out is not taken from the default)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_TOPIC_RULES)
  @ValidateNestedObjects(() => TopicRetentionRuleDto, { each: true })
  topics?: TopicRetentionRuleDto[];
}

export function toRetentionPolicy(dto: RetentionPolicyDto): RetentionPolicy {
  const rule = (r: RetentionRuleDto) => ({
    keepDays: r.keepDays,
    keepFailedDays: r.keepFailedDays ?? null,
    maxLogBytesPerAttempt: r.maxLogBytesPerAttempt ?? null,
  });
  return {
    default: dto.default ? rule(dto.default) : null,
    topics: (dto.topics ?? []).map((r) => ({ topic: r.topic, ...rule(r) })),
  };
}
