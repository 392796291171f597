"""Generates danube/_proto/ (messages, type stubs and the gRPC client) from proto/danube.proto.

    /usr/bin/python3 sdks/python/tools/generate_stubs.py [--out DIR]

Needs Debian's protobuf-compiler and protobuf-compiler-grpc, whose versions match the
python3-protobuf and python3-grpcio the SDK runs on. The proto is compiled as
danube/_proto/danube.proto so that the generated client imports its messages from the
package, not from a top-level module.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_ROOT = os.path.dirname(HERE)
PROTO = os.path.join(SDK_ROOT, "..", "..", "proto", "danube.proto")
PLUGIN = "/usr/bin/grpc_python_plugin"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=SDK_ROOT, help="the folder that holds danube/ (default: the SDK's)")
    out = os.path.abspath(parser.parse_args().out)
    protoc = shutil.which("protoc")
    if protoc is None or not os.path.exists(PLUGIN):
        print(
            "protoc and grpc_python_plugin are needed: apt-get install protobuf-compiler protobuf-compiler-grpc",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as include:
        os.makedirs(os.path.join(include, "danube", "_proto"))
        shutil.copyfile(PROTO, os.path.join(include, "danube", "_proto", "danube.proto"))
        os.makedirs(os.path.join(out, "danube", "_proto"), exist_ok=True)
        subprocess.run(
            [
                protoc,
                f"--plugin=protoc-gen-grpc_python={PLUGIN}",
                f"-I{include}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                "danube/_proto/danube.proto",
            ],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
