from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArtifactHeader(_message.Message):
    __slots__ = ["content_type", "job_id", "path", "sha256", "size"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    job_id: str
    path: str
    sha256: str
    size: int
    def __init__(self, job_id: _Optional[str] = ..., path: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class DownloadArtifactRequest(_message.Message):
    __slots__ = ["from_job_id", "job_id", "path"]
    FROM_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    from_job_id: str
    job_id: str
    path: str
    def __init__(self, job_id: _Optional[str] = ..., from_job_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class DownloadArtifactResponse(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: DownloadedArtifactHeader
    def __init__(self, header: _Optional[_Union[DownloadedArtifactHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class DownloadedArtifactHeader(_message.Message):
    __slots__ = ["artifact_id", "attempt", "content_type", "job_id", "path", "sha256", "size"]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    attempt: int
    content_type: str
    job_id: str
    path: str
    sha256: str
    size: int
    def __init__(self, artifact_id: _Optional[str] = ..., job_id: _Optional[str] = ..., attempt: _Optional[int] = ..., path: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class GetSecretRequest(_message.Message):
    __slots__ = ["job_id", "name"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    name: str
    def __init__(self, job_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetSecretResponse(_message.Message):
    __slots__ = ["value"]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...

class ReportStatusRequest(_message.Message):
    __slots__ = ["job_id", "message", "progress", "result_json"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    message: str
    progress: int
    result_json: str
    def __init__(self, job_id: _Optional[str] = ..., progress: _Optional[int] = ..., message: _Optional[str] = ..., result_json: _Optional[str] = ...) -> None: ...

class ReportStatusResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RunStepRequest(_message.Message):
    __slots__ = ["command", "env", "image", "job_id", "name", "request_id", "script", "timeout_seconds", "topic"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    image: str
    job_id: str
    name: str
    request_id: str
    script: str
    timeout_seconds: int
    topic: str
    def __init__(self, job_id: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., script: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., image: _Optional[str] = ..., name: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., topic: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RunStepResponse(_message.Message):
    __slots__ = ["error_message", "exit_code", "result_json", "status", "stderr", "stderr_truncated", "stdout", "stdout_truncated", "step_job_id"]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    STDERR_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDOUT_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    STEP_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    error_message: str
    exit_code: int
    result_json: str
    status: str
    stderr: str
    stderr_truncated: bool
    stdout: str
    stdout_truncated: bool
    step_job_id: str
    def __init__(self, step_job_id: _Optional[str] = ..., status: _Optional[str] = ..., exit_code: _Optional[int] = ..., stdout: _Optional[str] = ..., stderr: _Optional[str] = ..., stdout_truncated: bool = ..., stderr_truncated: bool = ..., error_message: _Optional[str] = ..., result_json: _Optional[str] = ...) -> None: ...

class UploadArtifactRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: ArtifactHeader
    def __init__(self, header: _Optional[_Union[ArtifactHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadArtifactResponse(_message.Message):
    __slots__ = ["artifact_id", "sha256", "size"]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    sha256: str
    size: int
    def __init__(self, artifact_id: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...
