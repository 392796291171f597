import json
import os
import tempfile
import unittest
from unittest import mock

import danube

from fake_job_service import FakeJobService, Server


class ModuleApiTest(unittest.TestCase):
    """The calls a job script makes: ``from danube import ctx, step, secrets, ...``."""

    def setUp(self):
        self.service = FakeJobService()
        self.server = Server(self.service)
        self.folder = tempfile.TemporaryDirectory()
        self.output_dir = os.path.join(self.folder.name, "outputs")
        os.makedirs(self.output_dir)
        env = {
            "DANUBE_GRPC_ADDRESS": self.server.address,
            "DANUBE_JOB_ID": "7",
            "DANUBE_JOB_TOKEN": "tok",
            "DANUBE_ATTEMPT": "2",
            "DANUBE_TOPIC": "etl",
            "DANUBE_LABELS": json.dumps({"team": "energy"}),
            "DANUBE_OUTPUT_DIR": self.output_dir,
            "DANUBE_WORKFLOW_ID": "3",
            "DANUBE_NODE_NAME": "analyze",
            "DANUBE_PARENT_RESULTS": json.dumps({"generate": {"rows": 10}}),
            "DANUBE_PARENT_JOB_IDS": json.dumps({"generate": "5"}),
        }
        self.env = mock.patch.dict(os.environ, env)
        self.env.start()
        danube.close()

    def tearDown(self):
        danube.close()
        self.env.stop()
        self.server.stop()
        self.folder.cleanup()

    def test_ctx_reads_what_the_executor_injects(self):
        ctx = danube.ctx
        self.assertEqual((ctx.job_id, ctx.attempt, ctx.topic), ("7", 2, "etl"))
        self.assertEqual(ctx.labels, {"team": "energy"})
        self.assertEqual(ctx.output_dir, self.output_dir)
        self.assertEqual((ctx.workflow_id, ctx.node_name), ("3", "analyze"))
        self.assertEqual(ctx.parent_results, {"generate": {"rows": 10}})
        self.assertEqual(ctx.parent_job_ids, {"generate": "5"})

    def test_outside_a_job_ctx_says_which_variable_is_missing(self):
        with mock.patch.dict(os.environ, {"DANUBE_JOB_ID": ""}):
            with self.assertRaises(danube.NotInAJobError) as raised:
                danube.ctx.job_id
        self.assertIn("DANUBE_JOB_ID", str(raised.exception))
        self.assertIsNone(danube.JobContext({}).workflow_id)
        self.assertEqual(danube.JobContext({}).parent_results, {})

    def test_step_secrets_progress_and_result(self):
        self.service.secrets["token"] = "s3cr3t"
        self.assertEqual(danube.step.run(["echo", "hi"], name="hi").stdout, "hello\n")
        self.assertEqual(danube.secrets.get("token"), "s3cr3t")
        danube.progress(40, "reading")
        danube.set_result({"ok": True})
        methods = [call[0] for call in self.service.calls]
        self.assertEqual(methods, ["RunStep", "GetSecret", "ReportStatus", "ReportStatus"])
        self.assertEqual(self.service.calls[3][1].result_json, '{"ok": true}')

    def test_set_result_none_is_a_result(self):
        danube.set_result(None)
        self.assertEqual(self.service.calls[0][1].result_json, "null")

    def test_upload_names_the_artifact_by_its_place_in_the_output_dir(self):
        os.makedirs(os.path.join(self.output_dir, "reports"))
        file = os.path.join(self.output_dir, "reports", "summary.csv")
        with open(file, "w") as f:
            f.write("a,b\n")
        danube.artifacts.upload(file)
        danube.artifacts.upload(file, name="renamed.csv")
        first, second = (u["header"] for u in self.service.uploads)
        self.assertEqual((first.path, first.content_type), ("reports/summary.csv", "text/csv"))
        self.assertEqual(second.path, "renamed.csv")

    def test_download_from_a_parent_node(self):
        self.service.artifacts[("5", "energy_data.csv")] = b"site,kwh\n"
        dest = os.path.join(self.folder.name, "in.csv")
        downloaded = danube.artifacts.download("energy_data.csv", from_node="generate", dest=dest)
        self.assertEqual(downloaded.job_id, "5")
        self.assertEqual(self.service.calls[0][1].from_job_id, "5")
        with open(dest, "rb") as file:
            self.assertEqual(file.read(), b"site,kwh\n")

    def test_download_from_an_unknown_node_names_the_parents(self):
        with self.assertRaises(ValueError) as raised:
            danube.artifacts.download("x.csv", from_node="nope")
        self.assertIn("generate", str(raised.exception))
        self.assertEqual(self.service.calls, [])


if __name__ == "__main__":
    unittest.main()
