import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DanubeError, InvalidArgumentError, NotFoundError } from '@danube/core';
import { checkArtifactPath } from './artifact-path';
import { ARTIFACT_STORE, type ArtifactStore } from './artifact-store';
import { ArtifactsRepository, type Artifact } from './artifacts.repository';

export type { Artifact } from './artifacts.repository';

export const ARTIFACTS_OPTIONS = Symbol('ARTIFACTS_OPTIONS');

export interface ArtifactsOptions {
  /** The largest artifact accepted, in bytes (ARTIFACT_MAX_BYTES). */
  maxBytes: number;
}

export interface ArtifactUpload {
  jobId: string;
  attempt: number;
  path: string;
  contentType: string;
  /** The exact number of bytes that will follow. */
  size: number;
  /** Hex sha256 the content must have; optional. */
  sha256?: string;
}

const CONTENT_TYPE_PATTERN = /^[\w.+-]+\/[\w.+-]+(\s*;.{0,200})?$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Artifacts: checked, hashed and stored uploads, listed per job and read back by id. */
@Injectable()
export class ArtifactsService {
  constructor(
    private readonly artifacts: ArtifactsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(ARTIFACTS_OPTIONS) private readonly options: ArtifactsOptions,
  ) {}

  /** Refuses a header before any byte is read: bad path, type, size or checksum. */
  private checkUpload(upload: ArtifactUpload): ArtifactUpload {
    const path = checkArtifactPath(upload.path);
    const contentType = upload.contentType || 'application/octet-stream';
    if (!CONTENT_TYPE_PATTERN.test(contentType)) {
      throw new InvalidArgumentError(
        `content_type ${JSON.stringify(contentType)} is not a media type such as text/csv`,
        { field: 'content_type' },
      );
    }
    if (!Number.isSafeInteger(upload.size) || upload.size < 0) {
      throw new InvalidArgumentError('size must be the number of bytes that follow', {
        field: 'size',
      });
    }
    if (upload.size > this.options.maxBytes) {
      throw new DanubeError(
        'payload_too_large',
        `size ${upload.size} is over the artifact limit of ${this.options.maxBytes} bytes (ARTIFACT_MAX_BYTES)`,
        { field: 'size' },
      );
    }
    const sha256 = upload.sha256 ? upload.sha256.toLowerCase() : undefined;
    if (sha256 !== undefined && !SHA256_PATTERN.test(sha256)) {
      throw new InvalidArgumentError('sha256 must be 64 hex digits', { field: 'sha256' });
    }
    return { ...upload, path, contentType, sha256 };
  }

  /**
   * Stores `content` as an artifact of the attempt. It must be exactly `size` bytes (and
   * hash to `sha256` when given); otherwise nothing is kept and the error says why.
   */
  async upload(header: ArtifactUpload, content: Readable): Promise<Artifact> {
    const upload = this.checkUpload(header);
    const hash = createHash('sha256');
    let received = 0;
    // Counts and hashes the bytes on their way to the store; iterating the source (rather
    // than piping it) carries its errors, and stopping early releases it.
    async function* metered(): AsyncGenerator<Buffer> {
      for await (const chunk of content as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > upload.size) {
          throw new InvalidArgumentError(
            `the upload sent more than the ${upload.size} bytes its header declared`,
            { field: 'size' },
          );
        }
        hash.update(chunk);
        yield chunk;
      }
    }
    const storageKey = randomUUID();
    let sha256 = '';
    await this.store.write(storageKey, Readable.from(metered()), () => {
      if (received !== upload.size) {
        throw new InvalidArgumentError(
          `the upload ended after ${received} of the ${upload.size} bytes its header declared`,
          { field: 'size' },
        );
      }
      sha256 = hash.digest('hex');
      if (upload.sha256 !== undefined && upload.sha256 !== sha256) {
        throw new InvalidArgumentError(
          `the content's sha256 is ${sha256}, not the ${upload.sha256} its header declared`,
          { field: 'sha256' },
        );
      }
    });
    try {
      const { artifact, replacedKey } = await this.artifacts.upsert(upload, sha256, storageKey);
      if (replacedKey) await this.store.remove(replacedKey);
      return artifact;
    } catch (error) {
      await this.store.remove(storageKey);
      throw error;
    }
  }

  /** The artifacts of a job of `tenant`. */
  list(tenant: string, jobId: string): Promise<Artifact[]> {
    return this.artifacts.listForJob(tenant, jobId);
  }

  /** An artifact of one of `tenant`'s jobs: its metadata and a stream of its bytes. */
  async open(tenant: string, id: string): Promise<{ artifact: Artifact; content: Readable }> {
    const found = await this.artifacts.findById(tenant, id);
    if (!found) throw new NotFoundError('artifact', id);
    return { artifact: found.artifact, content: this.store.read(found.storageKey) };
  }

  /**
   * An artifact as running job `callerId` reads it through the JobService: the latest
   * copy of `path` uploaded by job `ownerId`, which must be the caller itself, one of its
   * workflow parents, a step it ran, or the job that ran it as a step.
   */
  async openForJob(
    callerId: string,
    ownerId: string,
    path: string,
  ): Promise<{ artifact: Artifact; content: Readable }> {
    const found = await this.artifacts.findForJob(callerId, ownerId, checkArtifactPath(path));
    if (!found) {
      throw new DanubeError('not_found', `job ${ownerId} has no artifact ${JSON.stringify(path)}`, {
        field: 'path',
      });
    }
    if (!found.readable) {
      throw new DanubeError(
        'permission_denied',
        `job ${callerId} cannot read job ${ownerId}'s artifacts: a job reads its own, its workflow parents', its steps' and those of the job that ran it as a step`,
      );
    }
    return { artifact: found.artifact, content: this.store.read(found.storageKey) };
  }
}
