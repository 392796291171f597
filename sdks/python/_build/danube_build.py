"""The SDK's build backend (PEP 517), in the standard library alone.

It needs nothing installed to build, so ``pip install ./sdks/python`` works on a machine
that cannot reach a package index: a backend such as setuptools would first have to be
downloaded into pip's isolated build environment. It builds what this package needs and
nothing more: a pure-Python wheel of ``danube/`` and a source archive, with the metadata
read from pyproject.toml's [project] table.
"""

import base64
import hashlib
import io
import os
import sys
import tarfile
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # before Python 3.11
    raise SystemExit(
        f"the danube SDK needs Python 3.11 or later; this is {sys.version.split()[0]}: "
        "install it with a newer python3 (python3.11 -m pip install ./sdks/python)"
    ) from None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "danube"
PACKAGE_FILES = (".py", ".pyi", "py.typed")
SDIST_FILES = ("pyproject.toml", "README.md", "_build/danube_build.py")


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        return tomllib.load(file)["project"]


def _metadata(project):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project['requires-python']}",
        *(f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])),
        "Description-Content-Type: text/markdown",
    ]
    with open(os.path.join(ROOT, project.get("readme", "README.md")), encoding="utf-8") as file:
        return "\n".join(lines) + "\n\n" + file.read()


def _package_files():
    """The package's files, as paths relative to ROOT, in a stable order."""
    found = []
    for folder, subfolders, files in os.walk(os.path.join(ROOT, PACKAGE)):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(PACKAGE_FILES):
                found.append(os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/"))
    return found


def _record_line(path, content):
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(content)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    entries = []
    for path in _package_files():
        with open(os.path.join(ROOT, path), "rb") as file:
            entries.append((path, file.read()))
    entries.append((f"{dist_info}/METADATA", _metadata(project).encode()))
    wheel = "Wheel-Version: 1.0\nGenerator: danube_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries.append((f"{dist_info}/WHEEL", wheel.encode()))
    record = [_record_line(path, content) for path, content in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in entries:
            archive.writestr(path, content)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{project['name']}-{project['version']}"
    archive_name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, archive_name), "w:gz") as archive:
        for path in [*SDIST_FILES, *_package_files()]:
            archive.add(os.path.join(ROOT, path), arcname=f"{base}/{path}")
        info = _metadata(project).encode()
        member = tarfile.TarInfo(f"{base}/PKG-INFO")
        member.size = len(info)
        archive.addfile(member, io.BytesIO(info))
    return archive_name
