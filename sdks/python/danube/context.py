"""What the executor tells a job about itself, read from the variables it injects."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional

from .errors import NotInAJobError


class JobContext:
    """This job's id, attempt, topic, labels, folders and workflow context.

    Every property reads the environment when asked, so importing the SDK costs nothing
    and works outside a job; a property a job must have raises NotInAJobError there.
    """

    def __init__(self, env: Optional[Mapping[str, str]] = None) -> None:
        self._env = env

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _required(self, name: str) -> str:
        value = self.env.get(name, "")
        if value == "":
            raise NotInAJobError(
                f"{name} is not set: the danube SDK's job calls work inside a job run by a Danube executor"
            )
        return value

    def _json(self, name: str, fallback: Any) -> Any:
        value = self.env.get(name, "")
        return json.loads(value) if value else fallback

    @property
    def job_id(self) -> str:
        """DANUBE_JOB_ID"""
        return self._required("DANUBE_JOB_ID")

    @property
    def attempt(self) -> int:
        """DANUBE_ATTEMPT: 1 for the first attempt."""
        return int(self._required("DANUBE_ATTEMPT"))

    @property
    def topic(self) -> str:
        """DANUBE_TOPIC"""
        return self._required("DANUBE_TOPIC")

    @property
    def labels(self) -> Dict[str, str]:
        """DANUBE_LABELS: the job's labels."""
        return self._json("DANUBE_LABELS", {})

    @property
    def output_dir(self) -> Optional[str]:
        """DANUBE_OUTPUT_DIR: files left here are collected as artifacts by runtimes that do so."""
        return self.env.get("DANUBE_OUTPUT_DIR") or None

    @property
    def work_dir(self) -> Optional[str]:
        """DANUBE_WORK_DIR: the attempt's scratch folder (the process runtime's working directory)."""
        return self.env.get("DANUBE_WORK_DIR") or None

    @property
    def workflow_id(self) -> Optional[str]:
        """DANUBE_WORKFLOW_ID, in a workflow."""
        return self.env.get("DANUBE_WORKFLOW_ID") or None

    @property
    def node_name(self) -> Optional[str]:
        """DANUBE_NODE_NAME: this node's name, in a workflow."""
        return self.env.get("DANUBE_NODE_NAME") or None

    @property
    def parent_results(self) -> Dict[str, Any]:
        """The workflow parents' results, by node name (DANUBE_PARENT_RESULTS)."""
        return self._json("DANUBE_PARENT_RESULTS", {})

    @property
    def parent_job_ids(self) -> Dict[str, str]:
        """The workflow parents' job ids, by node name (DANUBE_PARENT_JOB_IDS)."""
        return self._json("DANUBE_PARENT_JOB_IDS", {})
