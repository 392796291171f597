import { Controller, Get, Param, Res, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ArtifactsService, type Artifact } from '@danube/artifacts';
import { JobsService } from '@danube/queue';
import type { Response } from 'express';
import { IdPipe } from '../http/id.pipe';

function artifactView(artifact: Artifact) {
  return { ...artifact, downloadUrl: `/v1/artifacts/${artifact.id}` };
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
  async list(@Param('id', IdPipe) id: string) {
    await this.jobs.get(id);
    return { items: (await this.artifacts.list(id)).map(artifactView) };
  }

  @Get('artifacts/:id')
  @ApiOperation({
    summary: 'Download an artifact (streamed); X-Checksum-Sha256 carries its sha256',
  })
  async download(
    @Param('id', IdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { artifact, content } = await this.artifacts.open(id);
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
