import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  MaxLength,
} from 'class-validator';
import {
  DEFAULT_MAX_ATTEMPTS,
  MAX_ATTEMPTS_LIMIT,
  MAX_URL_LENGTH,
  WEBHOOK_EVENT_KINDS,
} from '@danube/housekeeping';

export class CreateWebhookDto {
  @ApiProperty({
    description:
      'Where events are POSTed: http or https. Its host must resolve and accept a connection when the webhook is created',
    example: 'https://hooks.example.com/danube',
    maxLength: MAX_URL_LENGTH,
  })
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  url!: string;

  @ApiProperty({
    description: 'The event kinds to send (workflow.finished: succeeded, failed or cancelled)',
    type: [String],
    enum: WEBHOOK_EVENT_KINDS,
    example: ['job.failed', 'workflow.finished'],
  })
  @IsArray()
  @ArrayMaxSize(WEBHOOK_EVENT_KINDS.length * 2)
  @IsString({ each: true })
  events!: string[];

  @ApiPropertyOptional({
    description: "Only events of this topic (a workflow's ending has no topic)",
    example: 'reports',
  })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  topic?: string;

  @ApiPropertyOptional({
    description: 'Tries per event before it is marked failed',
    default: DEFAULT_MAX_ATTEMPTS,
    minimum: 1,
    maximum: MAX_ATTEMPTS_LIMIT,
  })
  @IsOptional()
  @IsInt()
  maxAttempts?: number;
}
