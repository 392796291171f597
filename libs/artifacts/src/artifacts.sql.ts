/** Every statement on danube.artifacts (the metadata; bytes are in the ArtifactStore). */

const ARTIFACT_COLUMNS =
  'a.id, a.job_id, a.attempt, a.path, a.content_type, a.size, a.sha256, a.storage_key, a.created_at';

/** Records an upload; the same path in the same attempt replaces the earlier one. */
export const UPSERT_ARTIFACT = `
  WITH previous AS (
    SELECT storage_key FROM danube.artifacts
    WHERE job_id = $1 AND attempt = $2 AND path = $3
  )
  INSERT INTO danube.artifacts AS a (job_id, attempt, path, content_type, size, sha256, storage_key)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (job_id, attempt, path) DO UPDATE SET
    content_type = EXCLUDED.content_type, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
    storage_key = EXCLUDED.storage_key, created_at = now()
  RETURNING ${ARTIFACT_COLUMNS}, (SELECT storage_key FROM previous) AS replaced_key`;

/** Reads name the tenant ($2) whose job the artifact must belong to. */
export const LIST_JOB_ARTIFACTS = `
  SELECT ${ARTIFACT_COLUMNS} FROM danube.artifacts a
  WHERE a.job_id = $1 AND EXISTS (SELECT 1 FROM danube.jobs j WHERE j.id = $1 AND j.tenant = $2)
  ORDER BY a.attempt, a.path`;

export const SELECT_ARTIFACT = `
  SELECT ${ARTIFACT_COLUMNS} FROM danube.artifacts a
  JOIN danube.jobs j ON j.id = a.job_id AND j.tenant = $2
  WHERE a.id = $1`;

/**
 * An artifact that a running job ($1) asks for, by the job that uploaded it ($2) and its
 * path ($3): the latest attempt's copy, of a job in the caller's tenant. `readable` says
 * whether the caller may read it: it is the caller's own, a workflow parent's, a step's
 * the caller ran, or the artifact of the job that ran the caller as a step.
 */
export const SELECT_ARTIFACT_FOR_JOB = `
  SELECT ${ARTIFACT_COLUMNS},
    (owner.id = caller.id
     OR owner.id = caller.parent_job_id
     OR owner.parent_job_id = caller.id
     OR EXISTS (SELECT 1 FROM danube.workflow_edges e
                WHERE e.parent_id = owner.id AND e.child_id = caller.id)) AS readable
  FROM danube.jobs caller
  JOIN danube.jobs owner ON owner.id = $2 AND owner.tenant = caller.tenant
  JOIN danube.artifacts a ON a.job_id = owner.id AND a.path = $3
  WHERE caller.id = $1
  ORDER BY a.attempt DESC
  LIMIT 1`;
