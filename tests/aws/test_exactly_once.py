"""Exact under retries and reordering: a hypothesis property test.

Any permutation of a set of S3 events, each delivered any number of times,
must leave the table (file items, aggregate counters, duplicate markers) in
the same state as delivering each event once, in sequencer order.
"""

import itertools
import json
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.aggregates import CELL_WRITES, cell_counters, contributions
from common.schema.keys import sequencer_order, upload_key
from common.schema.record import FileRecord, from_item
from devstack import template as tpl
from extractor.processor import Deps, Outcome, process_message
from tests.helpers.events import eventbridge_body

TABLE, BUCKET = "files", "uploads"
OWNERS = ("aaaaaaaa-1111-4222-8333-444455556666", "bbbbbbbb-1111-4222-8333-444455556666")
FIXED_NOW = "2026-11-22T10:00:01.500Z"
VERSION_NAMES: dict[str, str] = {}


def make_stack() -> None:
    """The table exactly as the template defines it, and a versioned bucket."""
    props = tpl.load()["Resources"]["FilesTable"]["Properties"]
    aws.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"], BillingMode="PAY_PER_REQUEST")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def upload_files(n_files: int, versions: list[int]) -> list[tuple[str, str]]:
    """Portal items plus object versions; returns (sequencer, body) of every event.

    S3 gives each version a random id, different in every run; the ids are
    recorded in upload order so that states of two runs can be compared.
    """
    VERSION_NAMES.clear()
    ddb, s3 = aws.client("dynamodb"), aws.client("s3")
    events = []
    sequencer = itertools.count(0x1000)
    for i in range(n_files):
        file_id = f"{i:02x}" + "0" * 29 + "1"
        owner = OWNERS[i % 2]
        key = upload_key(owner, file_id, "data.bin")
        ddb.put_item(**requests.put_new_file(TABLE, FileRecord(
            file_id=file_id, owner=owner, name=f"file {i}.bin", bucket=BUCKET, key=key,
            status=FileStatus.UPLOADED, uploaded_at="2026-11-22T10:00:00.000Z",
            updated_at="2026-11-22T10:00:00.000Z")))
        for v in range(versions[i]):
            # Content unique per version, except that version 0 of every file of
            # one owner is the same: the duplicate flag is exercised too.
            data = b"\x00\x01same" if v == 0 and i < 2 else bytes([0, 1, i, v]) * 10
            r = s3.put_object(Bucket=BUCKET, Key=key, Body=data)
            VERSION_NAMES[r["VersionId"]] = f"version-{len(VERSION_NAMES)}"
            seq = f"{next(sequencer):X}"
            events.append((seq, eventbridge_body(BUCKET, key, sequencer=seq, size=len(data),
                                                 etag=r["ETag"].strip('"'), version_id=r["VersionId"])))
    return events


def table_state() -> dict[str, dict]:
    """Every item, with counters at zero dropped: a reader cannot tell them from absent."""
    items = aws.client("dynamodb").scan(TableName=TABLE, ConsistentRead=True)["Items"]
    state = {}
    for item in items:
        plain = {k: v for k, v in item.items() if not (k not in ("rev",) and v.get("N") == "0")}
        if set(plain) <= {"pk", "sk"}:
            continue  # an aggregate or marker that went back to nothing
        if "version_id" in plain:
            plain["version_id"] = {"S": VERSION_NAMES[plain["version_id"]["S"]]}
        state[f"{item['pk']['S']}|{item['sk']['S']}"] = plain
    return state


def run(events: list[tuple[str, str]], deliveries: list[int]) -> dict[str, dict]:
    """Deliver events in the given order; clock and timer are fixed, as nothing else may differ."""
    deps = Deps(s3=aws.client("s3"), ddb=aws.client("dynamodb"), table=TABLE, now=lambda: FIXED_NOW)
    with patch("extractor.extract.time.perf_counter", return_value=0.0):  # duration_ms is measured
        for index in deliveries:
            outcomes = process_message(events[index][1], 1, deps)
            assert outcomes[0] in (Outcome.PROCESSED, Outcome.SKIPPED)
    return table_state()


@st.composite
def scenarios(draw):
    n_files = draw(st.integers(1, 3))
    versions = draw(st.lists(st.integers(1, 3), min_size=n_files, max_size=n_files))
    n_events = sum(versions)
    repeats = draw(st.lists(st.integers(1, 3), min_size=n_events, max_size=n_events))
    deliveries = [i for i, r in enumerate(repeats) for _ in range(r)]
    return n_files, versions, draw(st.permutations(deliveries))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_order_with_duplicates_ends_like_ordered_single_delivery(monkeypatch_env, scenario):
    n_files, versions, deliveries = scenario
    with mock_aws():
        aws.reset()
        make_stack()
        events = upload_files(n_files, versions)
        expected_order = sorted(range(len(events)), key=lambda i: sequencer_order(events[i][0]))
        expected = run(events, expected_order)
    with mock_aws():
        aws.reset()
        make_stack()
        events = upload_files(n_files, versions)
        actual = run(events, deliveries)
    aws.reset()

    def counted(table: dict) -> dict:  # how often a cell was written depends on the order; its counts do not
        return {k: {n: v for n, v in item.items() if n != CELL_WRITES} for k, item in table.items()}

    assert counted(actual) == counted(expected)
    # And the aggregates are exactly a recount of the final file items.
    files = [from_item(v) for k, v in actual.items() if k.startswith("FILE#")]
    recount: dict[str, int] = {}
    for record in files:
        for (pk, sk), counts in contributions(record).items():
            for name, value in counts.items():
                key = f"{pk}|{sk}|{name}"
                recount[key] = recount.get(key, 0) + value
    stored = {f"{k}|{name}": v for k, item in actual.items() if k.startswith("AGG#")
              for name, v in cell_counters(item).items()}
    assert stored == {k: v for k, v in recount.items() if v}
    assert all(r.status is FileStatus.PROCESSED for r in files)
    json.dumps(actual)  # plain data throughout
