import hashlib
import os
import tempfile
import threading
import unittest

import grpc

import danube
from danube import JobServiceClient, RetryPolicy
from danube.errors import DanubeError, JobServiceError, UnavailableError

from fake_job_service import FakeJobService, Server, free_port, later

FAST_RETRY = RetryPolicy(attempts=5, initial_delay=0.05, max_delay=0.2)


class JobServiceClientTest(unittest.TestCase):
    def setUp(self):
        self.service = FakeJobService()
        self.server = Server(self.service)
        self.client = JobServiceClient(self.server.address, "7", "tok-7", retry=FAST_RETRY)

    def tearDown(self):
        self.client.close()
        self.server.stop()

    def test_every_call_carries_the_job_token(self):
        self.service.secrets["db"] = "pw"
        self.client.get_secret("db")
        method, request, metadata = self.service.calls[0]
        self.assertEqual(metadata["authorization"], "Bearer tok-7")
        self.assertEqual(request.job_id, "7")

    def test_run_step_returns_exit_code_output_and_result(self):
        result = self.client.run_step(["python3", "x.py"], name="x", timeout_seconds=60)
        self.assertTrue(result.ok)
        self.assertEqual((result.job_id, result.exit_code, result.stdout), ("42", 0, "hello\n"))
        self.assertEqual(result.result, {"n": 1})
        request = self.service.calls[0][1]
        self.assertEqual(list(request.command), ["python3", "x.py"])
        self.assertEqual((request.name, request.timeout_seconds, request.script), ("x", 60, ""))

    def test_a_failed_step_is_a_result_not_an_exception(self):
        from danube._proto import danube_pb2

        self.service.step_response = danube_pb2.RunStepResponse(
            step_job_id="43", status="failed", exit_code=3, stderr="boom\n", error_message="exited with code 3"
        )
        result = self.client.run_step("exit 3")
        self.assertFalse(result.ok)
        self.assertEqual((result.status, result.exit_code, result.error_message), ("failed", 3, "exited with code 3"))
        self.assertEqual(self.service.calls[0][1].script, "exit 3")

    def test_a_step_that_never_ran_has_no_exit_code(self):
        from danube._proto import danube_pb2

        self.service.step_response = danube_pb2.RunStepResponse(step_job_id="44", status="cancelled")
        self.assertIsNone(self.client.run_step(["true"]).exit_code)

    def test_unavailable_is_retried_with_the_same_step_request_id(self):
        self.service.failures["RunStep"] = [
            (grpc.StatusCode.UNAVAILABLE, "database unreachable"),
            (grpc.StatusCode.UNAVAILABLE, "database unreachable"),
        ]
        result = self.client.run_step(["true"])
        self.assertTrue(result.ok)
        requests = [call[1] for call in self.service.calls if call[0] == "RunStep"]
        self.assertEqual(len(requests), 3)
        self.assertEqual(len({r.request_id for r in requests}), 1)
        self.assertNotEqual(requests[0].request_id, "")

    def test_unavailable_after_every_attempt_raises_unavailable(self):
        self.service.failures["ReportStatus"] = [(grpc.StatusCode.UNAVAILABLE, "down")] * 10
        with self.assertRaises(UnavailableError) as raised:
            self.client.report_status(progress=10)
        self.assertEqual(self.service.count("ReportStatus"), FAST_RETRY.attempts)
        self.assertIn("down", str(raised.exception))

    def test_other_errors_are_not_retried(self):
        self.service.failures["GetSecret"] = [(grpc.StatusCode.PERMISSION_DENIED, "not listed")]
        with self.assertRaises(danube.PermissionDeniedError):
            self.client.get_secret("x")
        self.assertEqual(self.service.count("GetSecret"), 1)

    def test_a_server_that_starts_late_is_waited_for(self):
        port = free_port()
        late = {}
        client = JobServiceClient(
            f"127.0.0.1:{port}", "7", "tok", retry=RetryPolicy(attempts=8, initial_delay=0.2, max_delay=1.0)
        )
        started = threading.Event()

        def start():
            late["server"] = Server(FakeJobService(), port)
            started.set()

        later(0.5, start)
        try:
            client.report_status(message="hello")
            self.assertTrue(started.is_set())
            self.assertEqual(late["server"].service.count("ReportStatus"), 1)
        finally:
            client.close()
            started.wait(5)
            late["server"].stop()

    def test_every_error_status_raises_its_own_exception(self):
        codes = [code for code in grpc.StatusCode if code != grpc.StatusCode.OK]
        seen = set()
        for code in codes:
            with self.subTest(code=code.name):
                self.service.failures["GetSecret"] = [(code, f"because {code.name.lower()}")]
                client = JobServiceClient(self.server.address, "7", "t", retry=RetryPolicy(attempts=1))
                try:
                    with self.assertRaises(JobServiceError) as raised:
                        client.get_secret("x")
                finally:
                    client.close()
                error = raised.exception
                self.assertEqual(error.code, code)
                self.assertIsInstance(error, DanubeError)
                self.assertEqual(error.details, f"because {code.name.lower()}")
                self.assertIn("GetSecret", str(error))
                self.assertIn(code.name, str(error))
                seen.add(type(error))
        self.assertEqual(len(seen), len(codes))

    def test_report_status_sends_progress_message_and_result(self):
        self.client.report_status(progress=50, message="half")
        self.client.report_status(result={"rows": 3}, has_result=True)
        first, second = (call[1] for call in self.service.calls)
        self.assertTrue(first.HasField("progress"))
        self.assertEqual((first.progress, first.message, first.result_json), (50, "half", ""))
        self.assertFalse(second.HasField("progress"))
        self.assertEqual(second.result_json, '{"rows": 3}')

    def test_upload_streams_the_file_in_chunks_with_its_sha256(self):
        content = os.urandom(600 * 1024)
        with tempfile.NamedTemporaryFile(delete=False) as file:
            file.write(content)
        try:
            uploaded = self.client.upload_artifact(file.name, "data/x.bin", "application/octet-stream")
        finally:
            os.remove(file.name)
        upload = self.service.uploads[0]
        self.assertEqual(upload["content"], content)
        self.assertEqual(upload["chunks"], 3)
        self.assertEqual(upload["header"].size, len(content))
        self.assertEqual(upload["header"].sha256, hashlib.sha256(content).hexdigest())
        self.assertEqual(upload["header"].path, "data/x.bin")
        self.assertEqual((uploaded.size, uploaded.sha256), (len(content), hashlib.sha256(content).hexdigest()))

    def test_download_writes_the_file_whole(self):
        content = os.urandom(250_000)
        self.service.artifacts[("5", "in.csv")] = content
        with tempfile.TemporaryDirectory() as folder:
            dest = os.path.join(folder, "in.csv")
            downloaded = self.client.download_artifact("in.csv", dest, from_job_id="5")
            with open(dest, "rb") as file:
                self.assertEqual(file.read(), content)
            self.assertEqual((downloaded.job_id, downloaded.size), ("5", len(content)))
            self.assertEqual(os.listdir(folder), ["in.csv"])

    def test_a_damaged_download_leaves_no_file(self):
        self.service.artifacts[("7", "in.csv")] = b"a,b\n1,2\n"
        self.service.damage_downloads = True
        with tempfile.TemporaryDirectory() as folder:
            with self.assertRaises(DanubeError) as raised:
                self.client.download_artifact("in.csv", os.path.join(folder, "in.csv"))
            self.assertIn("damaged", str(raised.exception))
            self.assertEqual(os.listdir(folder), [])

    def test_a_missing_artifact_is_not_found(self):
        with self.assertRaises(danube.NotFoundError) as raised:
            self.client.download_artifact("nope.csv", os.path.join(tempfile.gettempdir(), "nope.csv"))
        self.assertIn("nope.csv", str(raised.exception))


class FromEnvTest(unittest.TestCase):
    def test_outside_a_job_names_the_missing_variable(self):
        with self.assertRaises(danube.NotInAJobError) as raised:
            JobServiceClient.from_env({"DANUBE_JOB_ID": "1"})
        self.assertIn("DANUBE_GRPC_ADDRESS", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
