"""`make package`: a zip built for the Lambda platform that holds everything but boto3.

The zip is built for the template's runtime Python, and for this machine's
architecture when the template's cannot run here, then imported and run with
an interpreter of that very version, from the zip alone: so its bytecode is
the runtime's and is what runs. The zip for the template's own architecture
is checked by its headers (ELF machine, pyc magic number).
"""

import importlib
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from devstack import package, template

TEMPLATE_ARCH, PYTHON = template.lambda_platform(template.load())
HOST_ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
#: ELF e_machine of each architecture.
ELF_MACHINE = {"arm64": 183, "x86_64": 62}
#: What the Lambda runtime provides besides the zip (boto3 and what it needs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

# The handler, every parser, the preview drawers and the compactor; then the
# handler runs on a batch of an S3 test event (handled: nothing to do) and a
# body that is not JSON (reported failed, not raised). Not on an empty batch:
# Lambda never sends one, and Powertools rejects it (UnexpectedBatchTypeError).
CHILD = """
import importlib, json, sys, types
import extractor.handler as h, extractor.compactor
from extractor.extract import PARSERS
for target in sorted(set(PARSERS.values())):
    importlib.import_module('extractor.formats.' + target.split(':')[0])
importlib.import_module('extractor.formats.thumbnails')
context = types.SimpleNamespace(function_name='extractor', memory_limit_in_mb=1024, aws_request_id='r-1',
    invoked_function_arn='arn:aws:lambda:eu-west-1:123456789012:function:extractor',
    get_remaining_time_in_millis=lambda: 60_000)
def record(message_id, body):
    return {'messageId': message_id, 'receiptHandle': 'h', 'body': body, 'md5OfBody': '',
            'attributes': {'ApproximateReceiveCount': '1', 'SentTimestamp': '0'}, 'messageAttributes': {},
            'eventSource': 'aws:sqs', 'eventSourceARN': 'arn:aws:sqs:eu-west-1:123456789012:q',
            'awsRegion': 'eu-west-1'}
batch = [record('test-event', json.dumps({'Event': 's3:TestEvent'})), record('not-json', 'not json')]
result = {'python': '%d.%d' % sys.version_info[:2], 'handler': h.__file__, 'cached': h.__cached__,
          'batch': h.lambda_handler({'Records': batch}, context)}
with open(sys.argv[1], 'w') as out:
    json.dump(result, out)
"""


@pytest.fixture(scope="module")
def runtime() -> str:
    """The runtime's Python (the template's version) on this machine."""
    found = package.find_python(PYTHON)
    if found is None:
        pytest.skip(f"no Python {PYTHON} (the template's runtime) is installed; e.g. pyenv install {PYTHON}")
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A zip per architecture, built on first use (each build runs pip); no staging tree is kept."""
    zips: dict[str, Path] = {}

    def build(arch: str) -> Path:
        if arch not in zips:
            zips[arch] = package.build(arch, PYTHON, tmp_path_factory.mktemp(arch) / "extractor.zip")
            shutil.rmtree(zips[arch].parent / f"lambda-{arch}")
        return zips[arch]

    return build


def _probe(runtime: str, code: str) -> str:
    return subprocess.run([runtime, "-I", "-c", code], capture_output=True, text=True, check=True).stdout


def _pycache(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("__pycache__/*")}


def test_the_package_is_small_complete_and_runs_from_its_bytecode(tmp_path, runtime, built):
    arch = TEMPLATE_ARCH if TEMPLATE_ARCH == HOST_ARCH else HOST_ARCH  # arm64 does not run on x86_64
    out = built(arch)
    assert out.stat().st_size < package.MAX_ZIP_BYTES
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        z.extractall(unzipped)
    assert "extractor/handler.py" in names and "common/schema/record.py" in names
    assert not any(n.startswith(("boto3/", "botocore/", "portal/", "devstack/", "tests/")) for n in names)
    # What the Lambda runtime provides, and nothing else; copied (not linked)
    # so that this interpreter's bytecode for them is written here.
    provided = tmp_path / "runtime"
    for name in RUNTIME_PACKAGES:
        origin = Path(importlib.import_module(name).__file__)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, provided / origin.parent.name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            provided.mkdir(exist_ok=True)
            shutil.copy(origin, provided / origin.name)
    shipped = _pycache(unzipped)
    # Lambda's region variables and dummy names; clients are made but, with
    # these batches, never called (and would find nothing on port 9).
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(unzipped), str(provided)]),
           "PYTHONNOUSERSITE": "1", "HOME": str(tmp_path),
           "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
           "DOCPORTAL_BUCKET": "uploads", "DOCPORTAL_TABLE": "files"}
    result = subprocess.run([runtime, "-S", "-c", CHILD, str(tmp_path / "result.json")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads((tmp_path / "result.json").read_text())
    assert outcome["python"] == PYTHON and outcome["handler"].startswith(str(unzipped))
    assert outcome["batch"] == {"batchItemFailures": [{"itemIdentifier": "not-json"}]}, result.stdout[-3000:]
    # Bytecode was written (PYTHONDONTWRITEBYTECODE is unset): had any module
    # of the zip been compiled from source (no pyc, stale, another version's),
    # a new pyc would be in its __pycache__ now.
    assert Path(outcome["cached"]).is_file()
    written = sorted(name for name, data in _pycache(unzipped).items() if shipped.get(name) != data)
    assert not written, f"{len(written)} modules were compiled from source, e.g. {written[:5]}"
    assert any((provided / "botocore").rglob("__pycache__/*.pyc")), "no pyc was written at all: checked nothing"
    for tree in (unzipped, provided):  # some 100 MB that pytest would otherwise delete on a later run
        shutil.rmtree(tree)


def test_the_package_for_the_templates_architecture_is_built_for_it(runtime, built):
    out = built(TEMPLATE_ARCH)
    magic, cache_tag = _probe(runtime, "import importlib.util as u, sys; "
                                       "print(u.MAGIC_NUMBER.hex(), sys.implementation.cache_tag)").split()
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        libraries = [n for n in names if re.search(r"\.so(\.|$)", n)]
        assert libraries
        for name in libraries:
            header = z.read(name)[:20]  # ELF identification, type, then e_machine (little-endian)
            assert header[:4] == b"\x7fELF", name
            assert int.from_bytes(header[18:20], "little") == ELF_MACHINE[TEMPLATE_ARCH], name
        pycs = {posixpath.join(posixpath.dirname(n), "__pycache__", f"{posixpath.basename(n)[:-3]}.{cache_tag}.pyc")
                for n in names if n.endswith(".py")}
        assert pycs <= names, sorted(pycs - names)[:5]
        assert {n for n in names if n.endswith(".pyc")} == pycs
        handler = z.read(f"extractor/__pycache__/handler.{cache_tag}.pyc")
        for name in pycs:
            # the runtime's magic number; flags 0b01: hash-based, source not checked
            assert z.read(name)[:8] == bytes.fromhex(magic) + (1).to_bytes(4, "little"), name
    # The pycs name their sources where Lambda puts them, not where the zip was built.
    assert b"/var/task/extractor/handler.py" in handler and str(out.parent).encode() not in handler
