"""The JobService, as seen from inside one attempt of a job."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TypeVar, Union

import grpc

from ._proto import danube_pb2, danube_pb2_grpc
from .errors import DanubeError, NotInAJobError, from_rpc_error

CHUNK_BYTES = 256 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Calls refused with UNAVAILABLE are tried again, ``attempts`` times in all, after a
    jittered exponential backoff from ``initial_delay`` up to ``max_delay`` seconds."""

    attempts: int = 8
    initial_delay: float = 0.2
    max_delay: float = 5.0


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class StepResult:
    """How a step ended, failures included: check ``ok`` or ``status``."""

    job_id: str
    #: succeeded, failed, timed_out or cancelled
    status: str
    exit_code: Optional[int]
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    error_message: str
    result: Any

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class UploadedArtifact:
    artifact_id: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DownloadedArtifact:
    artifact_id: str
    job_id: str
    attempt: int
    path: str
    content_type: str
    size: int
    sha256: str
    #: where the bytes were written
    file: str


class JobServiceClient:
    """Every call carries the attempt's job id and token. Calls refused with UNAVAILABLE (the
    API restarting, its database unreachable) are retried with backoff; RunStep and the
    artifact calls are safe to retry: a retried step finds the one already started, and a
    re-uploaded path replaces itself."""

    def __init__(
        self,
        address: str,
        job_id: str,
        token: str,
        retry: RetryPolicy = DEFAULT_RETRY,
        channel: Optional[grpc.Channel] = None,
    ) -> None:
        self.job_id = job_id
        self._retry = retry
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._channel = channel or grpc.insecure_channel(
            address,
            options=[
                # Steps can run for hours: keep the connection alive and notice when it dies.
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.keepalive_timeout_ms", 10_000),
                ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ],
        )
        self._stub = danube_pb2_grpc.JobServiceStub(self._channel)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "JobServiceClient":
        """From the variables the executor injects: DANUBE_GRPC_ADDRESS, _JOB_ID, _JOB_TOKEN."""
        env = os.environ if env is None else env

        def get(name: str) -> str:
            value = env.get(name, "")
            if not value:
                raise NotInAJobError(
                    f"{name} is not set: the JobService is reachable from jobs run by a Danube executor that has DANUBE_SECRET_KEY"
                )
            return value

        return cls(get("DANUBE_GRPC_ADDRESS"), get("DANUBE_JOB_ID"), get("DANUBE_JOB_TOKEN"))

    def close(self) -> None:
        self._channel.close()

    def run_step(
        self,
        command: Union[str, Sequence[str]],
        *,
        name: Optional[str] = None,
        timeout_seconds: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        image: Optional[str] = None,
        topic: Optional[str] = None,
    ) -> StepResult:
        """Runs ``command`` (an argv list, or a shell script) as a child job and waits for it."""
        if isinstance(command, str):
            target: Dict[str, Any] = {"script": command}
        else:
            target = {"command": list(command)}
        request = danube_pb2.RunStepRequest(
            job_id=self.job_id,
            env=dict(env or {}),
            image=image or "",
            name=name or "",
            timeout_seconds=timeout_seconds or 0,
            topic=topic or "",
            # The same id on every retry: a retried call waits for the step it started.
            request_id=str(uuid.uuid4()),
            **target,
        )
        response = self._call("RunStep", lambda: self._stub.RunStep(request, metadata=self._metadata))
        return StepResult(
            job_id=response.step_job_id,
            status=response.status,
            exit_code=response.exit_code if response.HasField("exit_code") else None,
            stdout=response.stdout,
            stderr=response.stderr,
            stdout_truncated=response.stdout_truncated,
            stderr_truncated=response.stderr_truncated,
            error_message=response.error_message,
            result=json.loads(response.result_json) if response.result_json else None,
        )

    def get_secret(self, name: str) -> str:
        request = danube_pb2.GetSecretRequest(job_id=self.job_id, name=name)
        return self._call("GetSecret", lambda: self._stub.GetSecret(request, metadata=self._metadata)).value

    def report_status(
        self,
        progress: Optional[int] = None,
        message: Optional[str] = None,
        result: Any = None,
        has_result: bool = False,
    ) -> None:
        """Sets progress (0-100), the status message and, with ``has_result``, the result."""
        request = danube_pb2.ReportStatusRequest(
            job_id=self.job_id,
            message=message or "",
            result_json=json.dumps(result) if has_result else "",
        )
        if progress is not None:
            request.progress = progress
        self._call("ReportStatus", lambda: self._stub.ReportStatus(request, metadata=self._metadata))

    def upload_artifact(
        self, file: str, path: str, content_type: str = "application/octet-stream"
    ) -> UploadedArtifact:
        """Streams ``file`` in chunks as artifact ``path``; the server checks its sha256."""
        size = os.path.getsize(file)
        sha256 = _sha256_of(file)

        def messages() -> Iterator[danube_pb2.UploadArtifactRequest]:
            yield danube_pb2.UploadArtifactRequest(
                header=danube_pb2.ArtifactHeader(
                    job_id=self.job_id, path=path, content_type=content_type, size=size, sha256=sha256
                )
            )
            with open(file, "rb") as source:
                while True:
                    chunk = source.read(CHUNK_BYTES)
                    if not chunk:
                        return
                    yield danube_pb2.UploadArtifactRequest(chunk=chunk)

        response = self._call(
            "UploadArtifact", lambda: self._stub.UploadArtifact(messages(), metadata=self._metadata)
        )
        return UploadedArtifact(response.artifact_id, int(response.size), response.sha256)

    def download_artifact(self, path: str, dest: str, from_job_id: str = "") -> DownloadedArtifact:
        """Writes artifact ``path`` of job ``from_job_id`` (default: this job) to ``dest``.
        The file appears whole or not at all, and only if its sha256 checks out."""
        request = danube_pb2.DownloadArtifactRequest(job_id=self.job_id, from_job_id=from_job_id, path=path)

        def once() -> DownloadedArtifact:
            partial = f"{dest}.partial-{uuid.uuid4().hex[:8]}"
            header = None
            digest = hashlib.sha256()
            received = 0
            try:
                with open(partial, "wb") as sink:
                    for message in self._stub.DownloadArtifact(request, metadata=self._metadata):
                        if message.WhichOneof("payload") == "header":
                            header = message.header
                        else:
                            digest.update(message.chunk)
                            received += len(message.chunk)
                            sink.write(message.chunk)
                if header is None:
                    raise DanubeError(f"DownloadArtifact sent no header for {path}")
                if received != header.size or digest.hexdigest() != header.sha256:
                    raise DanubeError(
                        f"DownloadArtifact of {path} arrived damaged: {received} of {header.size} bytes, sha256 {digest.hexdigest()}"
                    )
                os.replace(partial, dest)
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
            return DownloadedArtifact(
                artifact_id=header.artifact_id,
                job_id=header.job_id,
                attempt=header.attempt,
                path=header.path,
                content_type=header.content_type,
                size=int(header.size),
                sha256=header.sha256,
                file=dest,
            )

        return self._call("DownloadArtifact", once)

    def _call(self, method: str, call: Callable[[], T]) -> T:
        delay = self._retry.initial_delay
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return call()
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and attempt < self._retry.attempts:
                    time.sleep(delay * random.uniform(0.5, 1.0))
                    delay = min(delay * 2, self._retry.max_delay)
                    continue
                raise from_rpc_error(method, error) from None
        raise AssertionError("unreachable: the last attempt returns or raises")


def _sha256_of(file: str) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as source:
        for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__: List[str] = [
    "CHUNK_BYTES",
    "DEFAULT_RETRY",
    "DownloadedArtifact",
    "JobServiceClient",
    "RetryPolicy",
    "StepResult",
    "UploadedArtifact",
]
