"""A small client of Danube's REST API, for programs that submit jobs and read them back."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Sequence, Union

from .errors import ApiError, ApiUnreachableError

#: A job or workflow in one of these has ended.
TERMINAL = ("succeeded", "failed", "timed_out", "cancelled", "skipped")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Client:
    """``Client(url, api_key)``. Both default to DANUBE_API_URL (else http://127.0.0.1:3000)
    and DANUBE_API_KEY. Refusals raise ApiError with the HTTP status and the server's message
    (which names the field at fault); no answer at all raises ApiUnreachableError."""

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 30.0) -> None:
        self.url = (url or os.environ.get("DANUBE_API_URL") or "http://127.0.0.1:3000").rstrip("/")
        self._api_key = api_key or os.environ.get("DANUBE_API_KEY") or None
        self._timeout = timeout

    def __repr__(self) -> str:  # never shows the key
        return f"Client({self.url!r})"

    # Jobs

    def submit(self, command: Union[str, Sequence[str]], *, topic: str = "default", **fields: Any) -> Dict[str, Any]:
        """Submits a job. Other fields of POST /v1/jobs are keyword arguments, in snake_case
        or as the API spells them: ``secrets=["token"]``, ``timeout_seconds=60``, ``labels={...}``."""
        body: Dict[str, Any] = {"topic": topic, "command": command if isinstance(command, str) else list(command)}
        body.update({_camel(name): value for name, value in fields.items()})
        return self.request("POST", "/v1/jobs", body)

    def get(self, job_id: str) -> Dict[str, Any]:
        return self.request("GET", f"/v1/jobs/{_segment(job_id)}")

    def cancel(self, job_id: str) -> Dict[str, Any]:
        return self.request("POST", f"/v1/jobs/{_segment(job_id)}/cancel")

    def wait(self, job_id: str, timeout: float = 600.0, interval: float = 0.2) -> Dict[str, Any]:
        """Polls the job until it has ended (whatever its end) and returns it; TimeoutError
        if it is still going after ``timeout`` seconds."""
        return self._wait(lambda: self.get(job_id), f"job {job_id}", timeout, interval)

    def logs(self, job_id: str) -> List[Dict[str, Any]]:
        """Every stored log line of the job: dicts with attempt, stream and line."""
        lines: List[Dict[str, Any]] = []
        after = "0"
        while True:
            page = self.request("GET", f"/v1/jobs/{_segment(job_id)}/logs?after={after}&limit=10000")
            if not page["lines"]:
                return lines
            lines.extend(page["lines"])
            after = page["nextAfter"]

    # Workflows

    def submit_workflow(self, workflow: Dict[str, Any]) -> Dict[str, Any]:
        """Submits a workflow: {"name": ..., "nodes": [{"name", "command", "dependsOn", ...}]}."""
        return self.request("POST", "/v1/workflows", workflow)

    def get_workflow(self, workflow_id: str) -> Dict[str, Any]:
        return self.request("GET", f"/v1/workflows/{_segment(workflow_id)}")

    def wait_workflow(self, workflow_id: str, timeout: float = 600.0, interval: float = 0.5) -> Dict[str, Any]:
        return self._wait(lambda: self.get_workflow(workflow_id), f"workflow {workflow_id}", timeout, interval)

    # Artifacts and secrets

    def artifacts(self, job_id: str) -> List[Dict[str, Any]]:
        """The job's artifacts, from every attempt."""
        return self.request("GET", f"/v1/jobs/{_segment(job_id)}/artifacts")["items"]

    def read_artifact(self, artifact_id: str) -> bytes:
        """An artifact's bytes, by its id (from ``artifacts``)."""
        return self._send("GET", f"/v1/artifacts/{_segment(artifact_id)}", None)

    def put_secret(self, name: str, value: str) -> Dict[str, Any]:
        return self.request("PUT", f"/v1/secrets/{_segment(name)}", {"value": value})

    # Any endpoint

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Any endpoint: its parsed JSON answer."""
        raw = self._send(method, path, body)
        return json.loads(raw) if raw else None

    def _send(self, method: str, path: str, body: Any) -> bytes:
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            message = parsed.get("message") if isinstance(parsed, dict) else None
            if isinstance(message, list):
                message = "; ".join(str(m) for m in message)
            raise ApiError(method, path, error.code, str(message or text or error.reason), parsed) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise ApiUnreachableError(self.url, str(reason)) from None

    @staticmethod
    def _wait(read: Any, what: str, timeout: float, interval: float) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = read()
            if current["status"] in TERMINAL:
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} is still {current['status']} after {timeout:g} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")
