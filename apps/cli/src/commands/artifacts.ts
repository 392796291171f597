import { createWriteStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ArtifactView } from '@danube/sdk/rest-client';
import { CliError, EXIT, type ApiClient } from '../api-client';
import { dateTime, print, table } from '../output';

type Client = (command: Command) => { api: ApiClient; json: boolean };

/** 1536 -> "1.5 KiB". */
export function byteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function registerArtifactCommands(program: Command, client: Client): void {
  const artifacts = program.command('artifacts').description('files that jobs uploaded');

  artifacts
    .command('list')
    .description("a job's artifacts")
    .argument('<job-id>', 'job id')
    .action(async (jobId: string, _options, command: Command) => {
      const { api, json } = client(command);
      const page = await api.get<{ items: ArtifactView[] }>(
        `/v1/jobs/${encodeURIComponent(jobId)}/artifacts`,
      );
      print(json, page, () =>
        table(
          ['id', 'path', 'size', 'type', 'attempt', 'uploaded'],
          page.items.map((a) => [
            a.id,
            a.path,
            byteSize(a.size),
            a.contentType,
            a.attempt,
            dateTime(a.createdAt),
          ]),
        ),
      );
    });

  artifacts
    .command('get')
    .description('download an artifact (to its file name here, or -o FILE, or -o - for stdout)')
    .argument('<id>', 'artifact id (see danube artifacts list)')
    .option('-o, --output <file>', 'where to write it; - for standard output')
    .option('--force', 'overwrite the file if it exists')
    .action(async (id: string, options, command: Command) => {
      const { api } = client(command);
      const response = await api.stream(`/v1/artifacts/${encodeURIComponent(id)}`);
      const disposition = response.headers.get('content-disposition') ?? '';
      const named = /filename="([^"]+)"/.exec(disposition)?.[1];
      const target: string = options.output ?? basename(named ?? `artifact-${id}`);
      if (target !== '-' && existsSync(target) && !options.force) {
        await response.body?.cancel();
        throw new CliError(
          `${target} exists; pass --force to overwrite it, or -o another file`,
          EXIT.usage,
        );
      }
      const body = Readable.fromWeb(response.body as never);
      await pipeline(body, target === '-' ? process.stdout : createWriteStream(target));
      if (target !== '-')
        process.stderr.write(
          `wrote ${target} (${byteSize(Number(response.headers.get('content-length') ?? 0))}, sha256 ${response.headers.get('x-checksum-sha256')})\n`,
        );
    });
}
