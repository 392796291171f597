"""A JobService double on loopback for the SDK's unit tests: it records what it receives and
answers as each test tells it to. (The SDK's end-to-end tests use the real API.)"""

from __future__ import annotations

import hashlib
import socket
import threading
from concurrent import futures
from typing import Any, Callable, Dict, List, Optional

import grpc

from danube._proto import danube_pb2, danube_pb2_grpc


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeJobService(danube_pb2_grpc.JobServiceServicer):
    def __init__(self) -> None:
        self.calls: List[tuple] = []
        self.lock = threading.Lock()
        #: per method: a list of (code, details) to abort with, one per call, before answering
        self.failures: Dict[str, List[tuple]] = {}
        self.secrets: Dict[str, str] = {}
        self.uploads: List[Dict[str, Any]] = []
        self.artifacts: Dict[tuple, bytes] = {}
        self.damage_downloads = False
        self.step_response: Optional[danube_pb2.RunStepResponse] = None

    def _enter(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.calls.append((method, request, dict(context.invocation_metadata())))
            pending = self.failures.get(method)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            context.abort(failure[0], failure[1])

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call[0] == method)

    def RunStep(self, request, context):
        self._enter("RunStep", request, context)
        return self.step_response or danube_pb2.RunStepResponse(
            step_job_id="42", status="succeeded", exit_code=0, stdout="hello\n", result_json='{"n": 1}'
        )

    def GetSecret(self, request, context):
        self._enter("GetSecret", request, context)
        if request.name not in self.secrets:
            context.abort(grpc.StatusCode.NOT_FOUND, f'secret "{request.name}" does not exist')
        return danube_pb2.GetSecretResponse(value=self.secrets[request.name])

    def ReportStatus(self, request, context):
        self._enter("ReportStatus", request, context)
        return danube_pb2.ReportStatusResponse()

    def UploadArtifact(self, request_iterator, context):
        messages = list(request_iterator)
        self._enter("UploadArtifact", messages, context)
        header = messages[0].header
        chunks = [m.chunk for m in messages[1:]]
        content = b"".join(chunks)
        self.uploads.append({"header": header, "chunks": len(chunks), "content": content})
        self.artifacts[(header.job_id, header.path)] = content
        digest = hashlib.sha256(content).hexdigest()
        return danube_pb2.UploadArtifactResponse(artifact_id="a1", size=len(content), sha256=digest)

    def DownloadArtifact(self, request, context):
        self._enter("DownloadArtifact", request, context)
        owner = request.from_job_id or request.job_id
        content = self.artifacts.get((owner, request.path))
        if content is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"job {owner} has no artifact {request.path}")
        digest = hashlib.sha256(content).hexdigest()
        yield danube_pb2.DownloadArtifactResponse(
            header=danube_pb2.DownloadedArtifactHeader(
                artifact_id="a1", job_id=owner, attempt=1, path=request.path,
                content_type="text/csv", size=len(content), sha256=digest,
            )
        )
        sent = content[:-1] if self.damage_downloads else content
        for start in range(0, len(sent), 100_000):
            yield danube_pb2.DownloadArtifactResponse(chunk=sent[start : start + 100_000])


class Server:
    """The double, served on 127.0.0.1:<port> until stop()."""

    def __init__(self, service: FakeJobService, port: Optional[int] = None) -> None:
        self.service = service
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        danube_pb2_grpc.add_JobServiceServicer_to_server(service, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port or 0}")
        self.server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None).wait()


def later(seconds: float, action: Callable[[], Any]) -> threading.Thread:
    thread = threading.Timer(seconds, action)
    thread.daemon = True
    thread.start()
    return thread
