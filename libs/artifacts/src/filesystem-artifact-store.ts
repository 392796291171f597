import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from './artifact-store';

const KEY_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

/**
 * Artifacts as files under `root`: `<root>/<first two characters of the key>/<key>`.
 * Uploads are written to `<root>/.partial/` and renamed into place once complete and
 * verified, so a reader never sees half a file and a failed upload leaves nothing.
 */
export class FilesystemArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  async write(key: string, source: Readable, verify?: () => void): Promise<void> {
    const target = this.pathOf(key);
    const partialDir = join(this.root, '.partial');
    const partial = join(partialDir, `${key}.${randomUUID()}`);
    await mkdir(partialDir, { recursive: true });
    const sink = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    try {
      await pipeline(source, sink);
      verify?.();
      await mkdir(join(target, '..'), { recursive: true });
      await rename(partial, target);
    } catch (error) {
      // A source that fails before the file is open makes pipeline reject while the open is
      // still on its way: the file must be closed, hence exist, before it can be removed.
      if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
      await rm(partial, { force: true });
      throw error;
    }
  }

  read(key: string): Readable {
    return createReadStream(this.pathOf(key));
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new Error(`invalid artifact storage key ${key}`);
    return join(this.root, key.slice(0, 2), key);
  }
}
