import { ApiProperty } from '@nestjs/swagger';
import type { EffectiveRetentionPolicy } from '@danube/housekeeping';

/** What GET and PUT /v1/retention and POST /v1/retention/sweep answer. */

export class RetentionRuleResponse {
  @ApiProperty({ description: 'Days a finished job is kept after it ended' })
  keepDays!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Days failed and timed-out jobs are kept instead; null: keepDays',
  })
  keepFailedDays!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most bytes of output kept per attempt of a finished job; null: no cap',
  })
  maxLogBytesPerAttempt!: number | null;
}

export class DefaultRetentionRuleResponse extends RetentionRuleResponse {
  @ApiProperty({
    description: 'true: the tenant set no default, and the built-in one (RETENTION_DAYS) applies',
  })
  builtIn!: boolean;
}

export class TopicRetentionRuleResponse extends RetentionRuleResponse {
  @ApiProperty()
  topic!: string;
}

export class RetentionPolicyResponse {
  @ApiProperty()
  tenant!: string;
  @ApiProperty({
    type: DefaultRetentionRuleResponse,
    description: 'For jobs on topics without a rule of their own, and for workflows',
  })
  default!: DefaultRetentionRuleResponse;
  @ApiProperty({ type: [TopicRetentionRuleResponse] })
  topics!: TopicRetentionRuleResponse[];

  static of(policy: EffectiveRetentionPolicy): RetentionPolicyResponse {
    return {
      tenant: policy.tenant,
      default: { ...policy.default },
      topics: policy.topics.map((rule) => ({ ...rule })),
    };
  }
}

export class RetentionSweepRequested {
  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When the sweep was asked for; it starts within seconds on one API replica',
  })
  requestedAt!: Date;
}
