import { ApiProperty } from '@nestjs/swagger';

/** What the API answers about the fleet (see job-response.dto.ts for why these are classes). */

export class TopicResponse {
  @ApiProperty()
  topic!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Jobs by status',
  })
  counts!: Record<string, number>;
  @ApiProperty({
    type: [String],
    description: 'Live executors serving the topic; empty: its jobs wait until one does',
  })
  executors!: string[];
}

export class TopicList {
  @ApiProperty({ type: [TopicResponse] })
  items!: TopicResponse[];
}

export class ExecutorResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty({ type: [String], description: 'Topics it serves; ["ALL"] for every topic' })
  topics!: string[];
  @ApiProperty()
  host!: string;
  @ApiProperty()
  pid!: number;
  @ApiProperty()
  version!: string;
  @ApiProperty()
  runtime!: string;
  @ApiProperty({ description: 'Attempts it runs at once at most' })
  capacity!: number;
  @ApiProperty()
  running!: number;
  @ApiProperty({ type: String, format: 'date-time' })
  startedAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' })
  heartbeatAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  stoppedAt!: Date | null;
  @ApiProperty({ enum: ['alive', 'lost', 'stopped'] })
  state!: string;
}

export class ExecutorList {
  @ApiProperty({ type: [ExecutorResponse] })
  items!: ExecutorResponse[];
}
