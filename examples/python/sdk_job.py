"""A job that uses every call of the danube Python SDK: it runs two steps (one fails), reads
a listed secret and is refused an unlisted one, reports progress, uploads a file, downloads
it back and sets its result. README.md in this folder says how to run it."""

import hashlib
import os

from danube import PermissionDeniedError, artifacts, ctx, progress, secrets, set_result, step


def sha256_of(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def main() -> None:
    print(f"job {ctx.job_id}, attempt {ctx.attempt}, topic {ctx.topic}")

    # A step is a job of its own, run and waited for; a failed one is a result, not an error.
    greeting = step.run(["python3", "-c", "print('hello from a step')"], name="greet", timeout_seconds=60)
    failing = step.run("echo 'about to fail' >&2; exit 3", name="fails")
    print(f"step {greeting.job_id} {greeting.status}: {greeting.stdout.strip()}")

    token = secrets.get("api-token")
    print(f"api-token has {len(token)} characters")
    try:
        secrets.get("not-listed")
        unlisted = "readable"
    except PermissionDeniedError as error:
        unlisted = f"refused ({error.code.name})"

    progress(50, "half way: uploading")
    data = os.urandom(int(os.environ.get("SDK_JOB_UPLOAD_BYTES", str(1024 * 1024))))
    path = os.path.join(ctx.output_dir or os.getcwd(), "random.bin")
    with open(path, "wb") as file:
        file.write(data)
    uploaded = artifacts.upload(path)
    copy = artifacts.download("random.bin", dest="copy.bin")

    set_result(
        {
            "step": {"jobId": greeting.job_id, "exitCode": greeting.exit_code, "stdout": greeting.stdout},
            "failedStep": {"status": failing.status, "exitCode": failing.exit_code, "stderr": failing.stderr},
            "tokenLength": len(token),
            "unlisted": unlisted,
            "artifact": {"path": "random.bin", "size": uploaded.size, "sha256": uploaded.sha256},
            "expectedSha256": hashlib.sha256(data).hexdigest(),
            "downloadedSha256": sha256_of(copy.file),
            "workflow": ctx.workflow_id,
        }
    )


if __name__ == "__main__":
    main()
