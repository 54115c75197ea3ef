"""The upload-time index on moto: what is in it, the Files view and the export read through it, the backfill.

Every read is checked against an oracle: the whole-table scan the portal used
before the index, filtered and ordered the same way.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from common import aws, upload_index
from common.catalogue import FileStatus
from common.schema.keys import OWNER_INDEX, UPLOAD_INDEX, UPLOAD_SHARDS, upload_shard
from common.schema.record import FileRecord, from_item, to_item
from portal.access import User
from portal.export.service import ExportRequest, csv_chunks, iter_pages
from portal.files import explorer, service
from portal.files.explorer import FileFilters, SortKey
from tests.helpers.records import DAYS, aggregate_items, make_records
from tests.helpers.tables import commit, every_item, scanned_files

ANALYST = User(sub="cccccccc-1111-4222-8333-000000000003", email="ana@example.com",
               groups=frozenset({"analysts"}), expires_at=2**40)
ADMIN = User(sub="dddddddd-1111-4222-8333-000000000004", email="adm@example.com",
             groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)


def stored(stack, n: int = 160) -> list[FileRecord]:
    """Files over six days in every shard, processed/failed/expired and some deleted, and their counters."""
    records = make_records(n)
    records = [replace(r, status=FileStatus.DELETED) if i % 11 == 0 else r for i, r in enumerate(records)]
    ddb = aws.client("dynamodb")
    for item in [*map(to_item, records), *aggregate_items(records)]:
        ddb.put_item(TableName=stack.table, Item=item)
    return records


def newest_first(records):
    return sorted(records, key=lambda r: (r.uploaded_at, r.file_id), reverse=True)


def every_page(user, stack, filters, page_size=7, max_examined=service.MAX_EXAMINED):
    """The files of every page in turn, and the pages' tokens."""
    ddb, shown, tokens, token = aws.client("dynamodb"), [], [], None
    while True:
        page = service.list_files(user=user, ddb=ddb, settings=stack, filters=filters, page_token=token,
                                  page_size=page_size, max_examined=max_examined)
        shown += [r.file_id for r in page.records]
        if page.next_token is None:
            return shown, tokens
        token = page.next_token
        tokens.append(token)


def test_every_file_item_is_in_the_index_and_nothing_else(stack):
    records = make_records(40)
    records = [replace(r, status=FileStatus.DELETED) if i % 11 == 0 else r for i, r in enumerate(records)]
    commit(stack.table, records)  # as the extractor writes them, counters and markers included
    items = every_item(stack.table)
    indexed = {k for k, item in items.items() if UPLOAD_INDEX.partition_key in item}
    assert indexed == {(f"FILE#{r.file_id}", "FILE") for r in records}  # deleted and expired files too
    assert any(k[0].startswith("AGG#") for k in items)  # the counters are there, but not in the index
    assert {items[k][UPLOAD_INDEX.partition_key]["S"] for k in indexed} == {f"UPLOADS#{s}" for s in range(UPLOAD_SHARDS)}


@pytest.mark.parametrize("sort", [SortKey.NEWEST, SortKey.OLDEST])
def test_the_files_view_pages_through_every_shard_in_upload_order(stack, sort):
    records = stored(stack)
    filters = FileFilters(sort=sort)
    shown, tokens = every_page(ANALYST, stack, filters)
    oracle = [r for r in scanned_files(stack.table) if explorer.matches(r, filters)]
    expected = newest_first(oracle) if sort is SortKey.NEWEST else newest_first(oracle)[::-1]
    assert shown == [r.file_id for r in expected]
    assert len(tokens) == -(-len(expected) // 7) - 1  # the last page says there is no next
    assert len({upload_shard(r.file_id) for r in records}) == UPLOAD_SHARDS


@pytest.mark.parametrize("filters", [
    FileFilters(start_day=DAYS[1], end_day=DAYS[2]),
    FileFilters(start_day=DAYS[4], statuses=frozenset({FileStatus.FAILED}), sort=SortKey.OLDEST),
    FileFilters(end_day=DAYS[0], formats=frozenset({"pdf"}), text="f."),
    FileFilters(statuses=frozenset({FileStatus.DELETED})),
    FileFilters(start_day="2026-12-01"),  # no files at all: empty days end at once
])
def test_the_files_view_shows_what_the_old_scan_found(stack, filters):
    stored(stack)
    shown, _ = every_page(ADMIN, stack, filters, page_size=5, max_examined=40)
    oracle = newest_first(r for r in scanned_files(stack.table) if explorer.matches(r, filters))
    assert shown == [r.file_id for r in (oracle if filters.newest_first else oracle[::-1])]


def test_only_the_days_asked_for_are_read(stack):
    records = stored(stack)
    ddb = Recording(aws.client("dynamodb"))
    page = service.list_files(user=ANALYST, ddb=ddb, settings=stack, filters=FileFilters(start_day=DAYS[2],
                              end_day=DAYS[2]), page_size=100)
    on_day = [r for r in records if r.uploaded_at.startswith(DAYS[2]) and r.status is not FileStatus.DELETED]
    assert sorted(r.file_id for r in page.records) == sorted(r.file_id for r in on_day)
    assert {name for name, _ in ddb.calls} == {"query"}
    read = sum(len(ddb.answers[i]["Items"]) for i in range(len(ddb.calls)))
    assert read <= len([r for r in records if r.uploaded_at.startswith(DAYS[2])])


def test_a_token_of_another_view_is_refused(stack):
    stored(stack)
    ddb = aws.client("dynamodb")
    everyone = FileFilters()
    page = service.list_files(user=ANALYST, ddb=ddb, settings=stack, filters=everyone, page_size=5)
    assert page.next_token
    for user, filters in [(ANALYST, FileFilters(sort=SortKey.OLDEST)), (ADMIN, everyone),
                          (ANALYST, FileFilters(start_day=DAYS[0]))]:
        with pytest.raises(explorer.BadPageToken, match="another view"):
            service.list_files(user=user, ddb=ddb, settings=stack, filters=filters, page_token=page.next_token)


def test_a_token_holding_another_indexs_key_or_a_position_outside_the_days_is_refused(stack):
    stored(stack)
    ddb, scope = aws.client("dynamodb"), f"{ANALYST.sub}|analysts"
    mine = FileFilters(owner=make_records(1)[0].owner)
    owners = service.list_files(user=ANALYST, ddb=ddb, settings=stack, filters=mine, page_size=1)
    owner_key = explorer.decode_token(owners.next_token, explorer.fingerprint(scope, mine))
    assert OWNER_INDEX.partition_key in owner_key
    late = {UPLOAD_INDEX.sort_key: {"S": "2027-01-01T00:00:00.000Z#" + "0" * 32}}
    november = FileFilters(end_day="2026-11-30")
    for key, filters in [(owner_key, FileFilters()), (late, november)]:
        token = explorer.encode_token(key, explorer.fingerprint(scope, filters))  # bound right, holding wrong
        with pytest.raises(explorer.BadPageToken, match="another view"):
            service.list_files(user=ANALYST, ddb=ddb, settings=stack, filters=filters, page_token=token)


def test_the_export_reads_the_days_through_the_index_and_equals_the_old_scan(stack):
    stored(stack)
    ddb = aws.client("dynamodb")
    request = ExportRequest(start_day=DAYS[1], end_day=DAYS[3], columns=("name", "uploaded_at", "status"),
                            page_size=9)
    rows = list(csv.reader(io.StringIO(b"".join(csv_chunks(ddb, stack.table, request, ANALYST)).decode())))
    oracle = sorted((r for r in scanned_files(stack.table, DAYS[1], DAYS[3]) if r.status is not FileStatus.DELETED),
                    key=lambda r: (r.uploaded_at, r.file_id))
    assert [row[1] for row in rows[1:]] == [r.uploaded_at for r in oracle]  # oldest first, every shard merged
    assert sorted(from_item(i).file_id for page in iter_pages(ddb, stack.table, request) for i in page) == sorted(
        r.file_id for r in oracle)


def without_index_keys(record: FileRecord) -> dict:
    item = to_item(record)
    del item[UPLOAD_INDEX.partition_key], item[UPLOAD_INDEX.sort_key]
    return item


def test_the_backfill_indexes_older_items_once(stack):
    ddb = aws.client("dynamodb")
    records = stored(stack, 40)
    older = make_records(30, seed=7)
    for record in older:
        ddb.put_item(TableName=stack.table, Item=without_index_keys(record))
    before = every_item(stack.table)
    progress = []
    first = upload_index.backfill(ddb, stack.table, page_size=20, report=progress.append)
    assert (first.updated, first.skipped) == (30, 0)
    assert first.scanned == len(before) and len(progress) > 1 and progress[-1] == first
    after = every_item(stack.table)
    for key, item in after.items():  # only the older items changed, and only by their index keys
        expected = to_item(from_item(item)) if key in {(f"FILE#{r.file_id}", "FILE") for r in older} else before[key]
        assert item == expected
    again = upload_index.backfill(ddb, stack.table)
    assert (again.updated, again.skipped) == (0, 0) and every_item(stack.table) == after
    shown, _ = every_page(ADMIN, stack, FileFilters(), page_size=50)
    assert sorted(shown) == sorted(r.file_id for r in [*records, *older] if r.status is not FileStatus.DELETED)


def test_the_backfill_leaves_an_item_a_writer_indexed_meanwhile(stack):
    ddb = aws.client("dynamodb")
    (record,) = make_records(1, seed=3)
    ddb.put_item(TableName=stack.table, Item=without_index_keys(record))

    class Racing:
        """A writer puts the item with its keys between the backfill's scan and its update."""

        def scan(self, **kwargs):
            page = ddb.scan(**kwargs)
            ddb.put_item(TableName=stack.table, Item=to_item(record))
            return page

        def update_item(self, **kwargs):
            return ddb.update_item(**kwargs)

    done = upload_index.backfill(Racing(), stack.table)
    assert (done.updated, done.skipped) == (0, 1)


class Recording:
    """A DynamoDB client that records every call and its answer."""

    def __init__(self, ddb):
        self.ddb, self.calls, self.answers = ddb, [], []

    def __getattr__(self, name):
        method = getattr(self.ddb, name)

        def call(**kwargs):
            self.calls.append((name, kwargs))
            answer = method(**kwargs)
            self.answers.append(answer)
            return answer
        return call


def test_the_backfill_command_reports_and_changes_nothing_the_second_time(stack, capsys):
    from devstack import backfill

    ddb = aws.client("dynamodb")
    for record in make_records(12, seed=5):
        ddb.put_item(TableName=stack.table, Item=without_index_keys(record))
    assert backfill.main(["--page-size", "5"]) == 0
    out, err = capsys.readouterr()
    assert out == "done: 12 files indexed, 0 left as they were, 12 items scanned\n"
    assert stack.table in err and err.count("items scanned") == 3
    assert backfill.main([]) == 0
    assert capsys.readouterr().out.startswith("done: 0 files indexed")


def test_a_saved_table_without_the_index_gets_it_and_its_items_are_backfilled(stack):
    from devstack.provision import provision
    from tests.helpers.env import REGION

    ddb = aws.client("dynamodb")
    ddb.update_table(TableName=stack.table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": UPLOAD_INDEX.name}}])
    older = make_records(20, seed=9)
    for record in older:
        ddb.put_item(TableName=stack.table, Item=without_index_keys(record))
    assert provision("", REGION) == stack
    indexes = ddb.describe_table(TableName=stack.table)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {OWNER_INDEX.name, UPLOAD_INDEX.name}
    shown, _ = every_page(ADMIN, stack, FileFilters(), page_size=50)
    assert sorted(shown) == sorted(r.file_id for r in older)
