import type { Readable } from 'node:stream';

/**
 * Where artifact bytes live. Metadata (path, size, sha256) is in Postgres; a store only
 * keeps bytes under opaque keys. The filesystem store serves one machine or a shared
 * volume; an object store would implement the same three calls.
 */
export interface ArtifactStore {
  /**
   * Writes all of `source` under `key`. The bytes become readable only after `source`
   * ended and `verify` (if given) returned; on any error nothing is left behind.
   */
  write(key: string, source: Readable, verify?: () => void): Promise<void>;
  /** The bytes under `key`; the stream errors if there are none. */
  read(key: string): Readable;
  /** Removes `key`; no error when it is already gone. */
  remove(key: string): Promise<void>;
}

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
