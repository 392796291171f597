import { Controller, Get, Param, Res, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ArtifactsService, type Artifact } from '@danube/artifacts';
import { Caller, type Principal } from '@danube/auth';
import { JobsService } from '@danube/queue';
import type { Response } from 'express';
import { IdPipe } from '../http/id.pipe';

export class ArtifactResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  jobId!: string;
  @ApiProperty()
  attempt!: number;
  @ApiProperty({ description: 'Relative path, as uploaded' })
  path!: string;
  @ApiProperty()
  contentType!: string;
  @ApiProperty()
  size!: number;
  @ApiProperty()
  sha256!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ description: 'Where to download it' })
  downloadUrl!: string;

  static of(artifact: Artifact): ArtifactResponse {
    return { ...artifact, downloadUrl: `/v1/artifacts/${artifact.id}` };
  }
}

export class ArtifactList {
  @ApiProperty({ type: [ArtifactResponse] })
  items!: ArtifactResponse[];
}

/** Files uploaded by jobs (UploadArtifact): listed per job, downloaded by id. */
@ApiTags('artifacts')
@Controller('v1')
export class ArtifactsController {
  constructor(
    private readonly artifacts: ArtifactsService,
    private readonly jobs: JobsService,
  ) {}

  @Get('jobs/:id/artifacts')
  @ApiOperation({ summary: "A job's artifacts, from every attempt" })
  @ApiOkResponse({ type: ArtifactList })
  async list(@Param('id', IdPipe) id: string, @Caller() caller: Principal): Promise<ArtifactList> {
    await this.jobs.get(caller.tenant, id);
    return { items: (await this.artifacts.list(caller.tenant, id)).map(ArtifactResponse.of) };
  }

  @Get('artifacts/:id')
  @ApiOperation({
    summary: 'Download an artifact (streamed); X-Checksum-Sha256 carries its sha256',
  })
  @ApiOkResponse({
    description: "The artifact's bytes, with its content type",
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  async download(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { artifact, content } = await this.artifacts.open(caller.tenant, id);
    res.setHeader('X-Checksum-Sha256', artifact.sha256);
    res.setHeader('ETag', `"${artifact.sha256}"`);
    const filename = artifact.path.split('/').at(-1)!.replace(/["\\]/g, '_');
    return new StreamableFile(content, {
      type: artifact.contentType,
      length: artifact.size,
      disposition: `attachment; filename="${filename}"`,
    });
  }
}
