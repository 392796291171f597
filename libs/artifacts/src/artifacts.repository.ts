import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import * as sql from './artifacts.sql';

export interface Artifact {
  id: string;
  jobId: string;
  attempt: number;
  path: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: Date;
}

interface ArtifactRow {
  id: string;
  job_id: string;
  attempt: number;
  path: string;
  content_type: string;
  size: string;
  sha256: string;
  storage_key: string;
  created_at: Date;
}

/** danube.artifacts: the statements of artifacts.sql.ts. The bytes live in the ArtifactStore. */
@Injectable()
export class ArtifactsRepository extends Repository {
  /**
   * Records a stored upload; the same path in the same attempt replaces the record, and
   * `replacedKey` is the storage key of the bytes it replaced, to be removed.
   */
  async upsert(
    upload: { jobId: string; attempt: number; path: string; contentType: string; size: number },
    sha256: string,
    storageKey: string,
  ): Promise<{ artifact: Artifact; replacedKey: string | null }> {
    const { rows } = await this.db.query<ArtifactRow & { replaced_key: string | null }>(
      sql.UPSERT_ARTIFACT,
      [
        upload.jobId,
        upload.attempt,
        upload.path,
        upload.contentType,
        upload.size,
        sha256,
        storageKey,
      ],
    );
    const row = rows[0]!;
    return { artifact: toArtifact(row), replacedKey: row.replaced_key };
  }

  async listForJob(tenant: string, jobId: string): Promise<Artifact[]> {
    const { rows } = await this.db.query<ArtifactRow>(sql.LIST_JOB_ARTIFACTS, [jobId, tenant]);
    return rows.map(toArtifact);
  }

  async findById(
    tenant: string,
    id: string,
  ): Promise<{ artifact: Artifact; storageKey: string } | null> {
    const { rows } = await this.db.query<ArtifactRow>(sql.SELECT_ARTIFACT, [id, tenant]);
    const row = rows[0];
    return row ? { artifact: toArtifact(row), storageKey: row.storage_key } : null;
  }

  /** The latest copy of `path` uploaded by job `ownerId`, as job `callerId` asks for it. */
  async findForJob(
    callerId: string,
    ownerId: string,
    path: string,
  ): Promise<{ artifact: Artifact; storageKey: string; readable: boolean } | null> {
    const { rows } = await this.db.query<ArtifactRow & { readable: boolean }>(
      sql.SELECT_ARTIFACT_FOR_JOB,
      [callerId, ownerId, path],
    );
    const row = rows[0];
    return row
      ? { artifact: toArtifact(row), storageKey: row.storage_key, readable: row.readable }
      : null;
  }
}

function toArtifact(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    jobId: row.job_id,
    attempt: row.attempt,
    path: row.path,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: row.created_at,
  };
}
