import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import danube
from danube import ApiError, ApiUnreachableError, Client

from fake_job_service import free_port


class FakeApi(BaseHTTPRequestHandler):
    """Answers like Danube's REST API for the few routes the tests use."""

    requests = []
    polls = 0

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        FakeApi.requests.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if body and body.get("topic") == "Bad Topic":
            return self._answer(400, {"statusCode": 400, "message": "topic must match ^[a-z0-9-]+$", "field": "topic"})
        self._answer(201, {"id": "9", "status": "queued", **body})

    def do_GET(self):
        FakeApi.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None))
        if self.path == "/v1/jobs/9":
            FakeApi.polls += 1
            return self._answer(200, {"id": "9", "status": "succeeded" if FakeApi.polls >= 3 else "running"})
        if self.path.startswith("/v1/jobs/9/logs?after=0"):
            return self._answer(200, {"lines": [{"attempt": 1, "stream": "stdout", "line": "a"}], "nextAfter": "1"})
        if self.path.startswith("/v1/jobs/9/logs?after=1"):
            return self._answer(200, {"lines": [], "nextAfter": "1"})
        self._answer(404, {"statusCode": 404, "message": "job 404 not found"})


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
        threading.Thread(target=cls.http.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.http.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.http.shutdown()
        cls.http.server_close()

    def setUp(self):
        FakeApi.requests = []
        FakeApi.polls = 0
        self.client = Client(self.url, "dnb_live_key")

    def test_submit_sends_the_key_and_camel_case_fields(self):
        job = self.client.submit(["python3", "job.py"], topic="etl", timeout_seconds=60, secrets=["db"])
        self.assertEqual(job["id"], "9")
        method, path, headers, body = FakeApi.requests[0]
        self.assertEqual((method, path), ("POST", "/v1/jobs"))
        self.assertEqual(headers["authorization"], "Bearer dnb_live_key")
        self.assertEqual(body, {"topic": "etl", "command": ["python3", "job.py"], "timeoutSeconds": 60, "secrets": ["db"]})

    def test_a_refusal_carries_the_status_message_and_field(self):
        with self.assertRaises(ApiError) as raised:
            self.client.submit(["true"], topic="Bad Topic")
        error = raised.exception
        self.assertEqual((error.status, error.field), (400, "topic"))
        self.assertIn("topic must match", str(error))
        with self.assertRaises(ApiError) as missing:
            self.client.get("404")
        self.assertEqual(missing.exception.status, 404)

    def test_wait_polls_until_the_job_has_ended(self):
        job = self.client.wait("9", interval=0.01)
        self.assertEqual(job["status"], "succeeded")
        self.assertEqual(FakeApi.polls, 3)

    def test_wait_gives_up_after_its_timeout(self):
        FakeApi.polls = -1000
        with self.assertRaises(TimeoutError) as raised:
            self.client.wait("9", timeout=0.05, interval=0.01)
        self.assertIn("still running", str(raised.exception))

    def test_logs_reads_every_page(self):
        self.assertEqual(self.client.logs("9"), [{"attempt": 1, "stream": "stdout", "line": "a"}])

    def test_an_api_that_does_not_answer(self):
        client = Client(f"http://127.0.0.1:{free_port()}", timeout=2)
        with self.assertRaises(ApiUnreachableError) as raised:
            client.get("1")
        self.assertIn("cannot reach the Danube API", str(raised.exception))

    def test_the_key_is_not_shown(self):
        self.assertNotIn("dnb_live_key", repr(self.client))
        self.assertIsInstance(self.client, danube.Client)


if __name__ == "__main__":
    unittest.main()
