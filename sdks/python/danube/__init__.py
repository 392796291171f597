"""danube: for code running inside a Danube job, and for programs that submit jobs.

    from danube import ctx, step, secrets, artifacts, progress, set_result

    total = step.run(["python3", "sum.py"], name="sum", timeout_seconds=60)
    password = secrets.get("db-password")
    artifacts.upload("report.csv")
    progress(50, "half way")
    set_result({"rows": 1200})

Job calls go to the JobService at DANUBE_GRPC_ADDRESS with the attempt's DANUBE_JOB_TOKEN,
both injected by the executor. ``Client`` talks to the REST API.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any, Mapping, Optional, Sequence, Union

from .context import JobContext
from .errors import (
    AbortedError,
    AlreadyExistsError,
    ApiError,
    ApiUnreachableError,
    CancelledError,
    DanubeError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    JobServiceError,
    NotFoundError,
    NotInAJobError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
)
from .job_service import (
    DEFAULT_RETRY,
    DownloadedArtifact,
    JobServiceClient,
    RetryPolicy,
    StepResult,
    UploadedArtifact,
)
from .rest import Client

__version__ = "0.1.0"

#: This job's id, attempt, topic, labels, folders and workflow context.
ctx = JobContext()

_client: Optional[JobServiceClient] = None


def job_service() -> JobServiceClient:
    """The process's JobService client, made on first use from the injected variables."""
    global _client
    if _client is None:
        _client = JobServiceClient.from_env()
    return _client


def close() -> None:
    """Closes the connection to the JobService (the process can also just exit)."""
    global _client
    if _client is not None:
        _client.close()
        _client = None


class _Step:
    def run(
        self,
        command: Union[str, Sequence[str]],
        *,
        name: Optional[str] = None,
        timeout_seconds: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        image: Optional[str] = None,
        topic: Optional[str] = None,
    ) -> StepResult:
        """Runs ``command`` (an argv list, or a shell script) as a child job and waits for it.
        Returns how it ended, failures included: check ``ok`` or ``status``, ``exit_code``,
        ``stdout`` and ``stderr``."""
        return job_service().run_step(
            command, name=name, timeout_seconds=timeout_seconds, env=env, image=image, topic=topic
        )


class _Secrets:
    def get(self, name: str) -> str:
        """A secret this job's spec lists in ``secrets``; PermissionDeniedError otherwise."""
        return job_service().get_secret(name)


def content_type_of(file: str) -> str:
    """The content type an artifact gets from its file name's extension."""
    guessed, _ = mimetypes.guess_type(file)
    return guessed or "application/octet-stream"


def _within(directory: Optional[str], file: str) -> Optional[str]:
    if not directory:
        return None
    relative = os.path.relpath(file, os.path.abspath(directory))
    if relative == "." or relative.startswith("..") or os.path.isabs(relative):
        return None
    return relative.replace(os.sep, "/")


class _Artifacts:
    def upload(
        self, path: str, name: Optional[str] = None, content_type: Optional[str] = None
    ) -> UploadedArtifact:
        """Uploads the file at ``path``, streamed in chunks. Its artifact name is ``name``,
        else its path inside DANUBE_OUTPUT_DIR or the working directory, else its file name."""
        absolute = os.path.abspath(path)
        artifact_path = (
            name
            or _within(ctx.output_dir, absolute)
            or _within(os.getcwd(), absolute)
            or os.path.basename(absolute)
        )
        return job_service().upload_artifact(absolute, artifact_path, content_type or content_type_of(path))

    def download(
        self,
        name: str,
        *,
        from_node: Optional[str] = None,
        from_job: Optional[str] = None,
        dest: Optional[str] = None,
    ) -> DownloadedArtifact:
        """Downloads artifact ``name`` of this job, of the workflow parent ``from_node``, or of
        job ``from_job`` (a step this job ran, or the job that ran this one as a step), to
        ``dest`` (default: its file name in the working directory). Returns where it went."""
        if from_node is not None and from_job is not None:
            raise ValueError("give from_node or from_job, not both")
        job_id = from_job or ""
        if from_node is not None:
            parents = ctx.parent_job_ids
            if from_node not in parents:
                raise ValueError(
                    f"{from_node!r} is not a parent of this workflow node; its parents are {sorted(parents) or 'none'}"
                )
            job_id = parents[from_node]
        target = dest or os.path.basename(name)
        return job_service().download_artifact(name, target, from_job_id=job_id)


step = _Step()
secrets = _Secrets()
artifacts = _Artifacts()


def progress(percent: int, message: Optional[str] = None) -> None:
    """Sets the job's progress (0-100) and, optionally, its status message."""
    job_service().report_status(progress=percent, message=message)


def set_result(result: Any) -> None:
    """Sets the job's result (any JSON value), shown on GET /v1/jobs/:id and to workflow children."""
    job_service().report_status(result=result, has_result=True)


__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "ApiError",
    "ApiUnreachableError",
    "CancelledError",
    "Client",
    "DEFAULT_RETRY",
    "DanubeError",
    "DataLossError",
    "DeadlineExceededError",
    "DownloadedArtifact",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "JobContext",
    "JobServiceClient",
    "JobServiceError",
    "NotFoundError",
    "NotInAJobError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "StepResult",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "UploadedArtifact",
    "artifacts",
    "close",
    "content_type_of",
    "ctx",
    "job_service",
    "progress",
    "secrets",
    "set_result",
    "step",
]
