"""Submits the energy pipeline (generate -> analyze -> report) as a Danube workflow, waits
for it and prints the report.

    .venv/bin/python examples/python/energy_pipeline/submit.py [--topic default]

Each node runs ``<this Python> <script>``: the interpreter running this file, which has the
danube SDK installed, on the process runtime. The API is DANUBE_API_URL (default
http://127.0.0.1:3000) with DANUBE_API_KEY, else the key npm start keeps in .danube/admin-key.
"""

import argparse
import os
import sys

from danube import Client

HERE = os.path.dirname(os.path.abspath(__file__))


def api_key():
    if os.environ.get("DANUBE_API_KEY"):
        return os.environ["DANUBE_API_KEY"]
    kept = os.path.join(os.getcwd(), ".danube", "admin-key")
    return open(kept).read().strip() if os.path.exists(kept) else None


def node(name, script, topic, depends_on=(), **fields):
    return {
        "name": name,
        "topic": topic,
        "command": [sys.executable, os.path.join(HERE, script)],
        "dependsOn": list(depends_on),
        "timeoutSeconds": 60,
        **fields,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the energy pipeline on Danube.")
    parser.add_argument("--topic", default="default", help="the executors' topic (default: default)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the workflow")
    args = parser.parse_args()

    client = Client(api_key=api_key())
    workflow = client.submit_workflow(
        {
            "name": "energy-pipeline",
            "labels": {"example": "energy-pipeline"},
            "nodes": [
                node("generate", "generator.py", args.topic, secrets=["energy-meter-key"]),
                node("analyze", "analyzer.py", args.topic, ["generate"]),
                node("report", "report.py", args.topic, ["analyze"]),
            ],
        }
    )
    print(f"workflow {workflow['id']} submitted")
    done = client.wait_workflow(workflow["id"], timeout=args.timeout)
    for each in done["nodes"]:
        print(f"  {each['name']:<9} job {each['jobId']:<6} {each['status']}")
    if done["status"] != "succeeded":
        print(f"workflow {done['id']} {done['status']}: see `danube get <job id>` for each node", file=sys.stderr)
        return 1
    report_job = next(each["jobId"] for each in done["nodes"] if each["name"] == "report")
    artifact = next(a for a in client.artifacts(report_job) if a["path"] == "energy_report.csv")
    print(client.read_artifact(artifact["id"]).decode(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
