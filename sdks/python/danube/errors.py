"""The exceptions the SDK raises: one class per gRPC status, and the REST client's."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

import grpc


class DanubeError(Exception):
    """Every error the SDK raises on purpose derives from this."""


class NotInAJobError(DanubeError):
    """A job call was made outside a job run by a Danube executor (a variable is missing)."""


class JobServiceError(DanubeError):
    """A JobService call that failed. ``code`` is the gRPC status, ``details`` the server's words."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, method: str, details: str) -> None:
        self.method = method
        self.details = details
        super().__init__(f"{method} failed ({self.code.name}): {details}")


class CancelledError(JobServiceError):
    """The call was cancelled, by this process or by the server."""

    code = grpc.StatusCode.CANCELLED


class UnknownError(JobServiceError):
    """The server failed in a way it did not describe."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(JobServiceError):
    """The request was malformed; the message names the field."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(JobServiceError):
    """The call did not end in time."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(JobServiceError):
    """The job, secret or artifact does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(JobServiceError):
    """What the call would create exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(JobServiceError):
    """The job may not do this (a secret its spec does not list, another job's artifact)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(JobServiceError):
    """A limit was reached (a quota, a message or artifact size)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(JobServiceError):
    """The job is not in a state that allows the call (its attempt has ended, say)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(JobServiceError):
    """The call was aborted by a conflicting one; it may be tried again."""

    code = grpc.StatusCode.ABORTED


class OutOfRangeError(JobServiceError):
    """A value was outside its range."""

    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(JobServiceError):
    """The server does not offer this call: it is older than this SDK."""

    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(JobServiceError):
    """The server failed; its logs say why."""

    code = grpc.StatusCode.INTERNAL


class UnavailableError(JobServiceError):
    """The JobService could not be reached, even after the retries."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLossError(JobServiceError):
    """Data was lost or corrupted on the way."""

    code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(JobServiceError):
    """The call had no valid job token (DANUBE_JOB_TOKEN)."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[JobServiceError]] = {
    cls.code: cls
    for cls in (
        CancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
        DataLossError,
        UnauthenticatedError,
    )
}


def from_rpc_error(method: str, error: grpc.RpcError) -> JobServiceError:
    """The exception for a failed call: its class says the status, its message the reason."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else None) or str(error)
    return _BY_CODE.get(code, UnknownError)(method, details)


class ApiError(DanubeError):
    """The REST API refused a request: ``status`` is the HTTP status, ``body`` its JSON body."""

    def __init__(self, method: str, path: str, status: int, message: str, body: Any) -> None:
        self.status = status
        self.body = body
        self.field: Optional[str] = body.get("field") if isinstance(body, dict) else None
        super().__init__(f"{method} {path}: {status} {message}")


class ApiUnreachableError(DanubeError):
    """The REST API did not answer at all."""

    def __init__(self, base_url: str, reason: str) -> None:
        self.base_url = base_url
        super().__init__(f"cannot reach the Danube API at {base_url} ({reason})")
