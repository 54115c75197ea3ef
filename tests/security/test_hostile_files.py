"""Attacks by hostile files and objects, one per test; each docstring names the attack.

A file may take over the parser that reads it (the sandbox's worker process),
may be shaped to exhaust the extractor before any parser runs, or may be put
where it claims another user's file.
"""

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from bench.corpus import million_entries_zip
from common import aws
from common.catalogue import FileStatus
from common.schema.keys import file_key
from common.schema.record import from_item
from extractor.detect import detect
from extractor.extract import Config, extract_file
from extractor.formats import Limits, Parsed, ParseError
from extractor.processor import Deps, Outcome, process_message
from extractor.sandbox import Budget, MiB, run_isolated
from portal.access import User
from portal.files.uploads import store_upload
from tests.helpers.events import aws_sequencers, eventbridge_body
from tests.helpers.files import tiny_pdf

BUDGET = Budget(memory_bytes=64 * MiB, seconds=5)


class _RunsWhenUnpickled:
    """A value whose unpickling calls ``os.mkdir(marker)`` in whichever process unpickles it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def answers_with_code(path: Path, limits: Limits) -> Parsed:
    return Parsed(metadata={"title": _RunsWhenUnpickled(str(path.with_suffix(".pwned")))})


def reads_the_environment(path: Path, limits: Limits) -> Parsed:
    return Parsed(metadata={"variables": sorted(os.environ)})


def test_a_taken_over_parser_cannot_run_code_in_the_extractor(tmp_path):
    """Attack: a parser taken over by a file answers with a pickle that runs code when the extractor reads it."""
    with pytest.raises(ParseError) as caught:
        run_isolated(answers_with_code, tmp_path / "x.pdf", Limits(), BUDGET)
    assert not (tmp_path / "x.pwned").exists(), "the parser's answer ran code in the extractor"
    assert caught.value.reason == "the file's metadata could not be read (unexpected reader error)"


def test_a_taken_over_parser_finds_no_credentials_in_its_environment(tmp_path, monkeypatch):
    """Attack: a parser taken over by a file reads the extractor's AWS credentials from its environment."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-secret-the-parser-must-not-see")
    fresh = Budget(memory_bytes=64 * MiB, seconds=4)  # a worker forked after the variable was set
    assert run_isolated(reads_the_environment, tmp_path / "x.pdf", Limits(), fresh).metadata == {"variables": []}


@pytest.fixture(scope="module")
def million_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "entries.zip"
    path.write_bytes(million_entries_zip())
    return path


def test_a_zip_of_a_million_entries_is_classified_without_listing_them(million_entries):
    """Attack: a 52 MB zip of a million empty entries makes detection, in the extractor's own process,
    list them all (about 480 MB), so a few such files exhaust a 1 GB Lambda and the batch is retried forever."""
    tracemalloc.start()
    try:
        fmt = detect(million_entries, "zip").format
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fmt == "zip"
    assert peak < 2 * MiB, f"detection allocated {peak / MiB:.0f} MiB"


def test_a_zip_of_a_million_entries_is_refused_for_its_count_before_it_is_listed(million_entries):
    """Attack: the same zip makes the zip parser list a million entries before it checks the member cap,
    so it fails for memory (or exhausts a larger budget) instead of being refused for what it is."""
    config = Config(budget=Budget(memory_bytes=96 * MiB, seconds=20))
    record = extract_file(million_entries, "entries.zip", config)
    assert record.error == "zip archive has 1000000 entries, more than the 20000 allowed"


def test_an_object_under_another_owners_folder_cannot_take_over_a_file(stack):
    """Attack: ``uploads/<attacker>/<victim-id>.pdf`` is announced with a later (AWS-shaped) sequencer than
    the victim's own object, and the extractor rewrites the victim's file with the attacker's content."""
    victim = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="victim@example.com",
                  groups=frozenset({"uploaders"}), expires_at=2**40)
    attacker = "bbbbbbbb-1111-4222-8333-000000000002"
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    deps = Deps(s3=s3, ddb=ddb, table=stack.table)
    sequencers = aws_sequencers()

    def announce(key: str) -> str:
        head = s3.head_object(Bucket=stack.bucket, Key=key)
        return eventbridge_body(stack.bucket, key, sequencer=next(sequencers), size=head["ContentLength"],
                                etag=head["ETag"].strip('"'), version_id=head["VersionId"])

    own = tiny_pdf("the victim's report")
    record = store_upload(user=victim, name="report.pdf", body=io.BytesIO(own), content_type="", s3=s3, ddb=ddb,
                          settings=stack)
    assert process_message(announce(record.key), 1, deps) == [Outcome.PROCESSED]
    hostile_key = f"uploads/{attacker}/{record.file_id}.pdf"
    s3.put_object(Bucket=stack.bucket, Key=hostile_key, Body=tiny_pdf("the attacker's words, in the victim's file"))
    assert process_message(announce(hostile_key), 1, deps) == [Outcome.SKIPPED]
    after = from_item(ddb.get_item(TableName=stack.table, Key=file_key(record.file_id))["Item"])
    assert (after.status, after.owner, after.key) == (FileStatus.PROCESSED, victim.sub, record.key)
    assert after.sha256 == hashlib.sha256(own).hexdigest(), "the victim's file now describes foreign content"
